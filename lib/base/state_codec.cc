#include "lib/base/state_codec.h"

namespace supd {

namespace {

// A field's header: u16 tag, u32 length.
constexpr size_t kFieldHeaderBytes = 6;
constexpr size_t kLengthBytes = 4;

std::string PastTheEnd(uint64_t length, size_t left) {
  return "length " + std::to_string(length) + " past the end (" + std::to_string(left) +
         " bytes left)";
}

}  // namespace

size_t StateEncoder::BeginLength() {
  const size_t at = out_.size();
  out_.append(kLengthBytes, '\0');
  return at;
}

void StateEncoder::EndLength(size_t at) {
  // The state is capped far below 4 GiB (kMaxSavedStateBytes); a longer payload is refused
  // by the decoder as a length that does not match, not written silently short.
  const auto length = static_cast<uint32_t>(out_.size() - at - kLengthBytes);
  for (size_t i = 0; i < kLengthBytes; ++i)
    out_[at + i] = static_cast<char>((length >> (8 * i)) & 0xff);
}

void StateDecoder::Fail(const std::string& what) {
  if (failed()) return;
  // "service 3: field current.main.outputs[1].pending": labels, then the fields under them.
  std::string where;
  std::string fields;
  const auto flush = [&] {
    if (fields.empty()) return;
    where += (where.empty() ? "field " : ": field ") + fields;
    fields.clear();
  };
  for (const Segment& s : path_) {
    if (s.label) {
      flush();
      where += (where.empty() ? "" : ": ") + s.text;
    } else {
      if (!fields.empty() && s.text.front() != '[') fields += '.';
      fields += s.text;
    }
  }
  flush();
  error_ = Error{where.empty() ? what : where + ": " + what};
}

bool StateDecoder::NextField(uint16_t tag, const char* name, std::string_view* payload) {
  std::string_view& rest = record_.rest;
  while (!failed() && !rest.empty()) {
    if (rest.size() < kFieldHeaderBytes) {
      Fail("a field header cut short: " + std::to_string(rest.size()) + " bytes of " +
           std::to_string(kFieldHeaderBytes));
      return false;
    }
    const auto found = LoadLittleEndian<uint16_t>(rest);
    const auto length = LoadLittleEndian<uint32_t>(rest.substr(2));
    if (found <= record_.last_tag) {
      Fail(found == record_.last_tag
               ? "field tag " + std::to_string(found) + " twice"
               : "field tag " + std::to_string(found) + " after tag " +
                     std::to_string(record_.last_tag) + ": fields out of order");
      return false;
    }
    if (found > tag) return false;  // absent: the field found comes later
    const size_t left = rest.size() - kFieldHeaderBytes;
    if (length > left) {
      if (found == tag && name != nullptr) {
        Scope scope(this, name);
        Fail(PastTheEnd(length, left));
      } else {
        Fail("field tag " + std::to_string(found) + ": " + PastTheEnd(length, left));
      }
      return false;
    }
    *payload = rest.substr(kFieldHeaderBytes, length);
    rest.remove_prefix(kFieldHeaderBytes + length);
    record_.last_tag = found;
    if (found == tag) return true;
    // A tag this supd does not know: a later supd's field, skipped.
  }
  return false;
}

void StateDecoder::SkipRest() {
  std::string_view unknown;
  while (!failed() && !record_.rest.empty()) NextField(UINT16_MAX, nullptr, &unknown);
}

bool StateDecoder::TakeSized(std::string_view* bytes, std::string_view* out) {
  if (bytes->size() < kLengthBytes) {
    Fail("a length cut short: " + std::to_string(bytes->size()) + " bytes of " +
         std::to_string(kLengthBytes));
    return false;
  }
  const auto length = LoadLittleEndian<uint32_t>(*bytes);
  const size_t left = bytes->size() - kLengthBytes;
  if (length > left) {
    Fail(PastTheEnd(length, left));
    return false;
  }
  *out = bytes->substr(kLengthBytes, length);
  bytes->remove_prefix(kLengthBytes + length);
  return true;
}

bool StateDecoder::TakeCount(std::string_view* bytes, size_t max, uint32_t* count) {
  if (bytes->size() < kLengthBytes) {
    Fail("a count cut short: " + std::to_string(bytes->size()) + " bytes of " +
         std::to_string(kLengthBytes));
    return false;
  }
  *count = LoadLittleEndian<uint32_t>(*bytes);
  bytes->remove_prefix(kLengthBytes);
  if (*count > max) {
    Fail(std::to_string(*count) + " items, more than the " + std::to_string(max) + " there are");
    return false;
  }
  // Each item takes at least its length.
  if (*count > bytes->size() / kLengthBytes) {
    Fail(std::to_string(*count) + " items cannot fit in the " + std::to_string(bytes->size()) +
         " bytes left");
    return false;
  }
  return true;
}

void StateDecoder::TrailingBytes(std::string_view rest) {
  if (!rest.empty()) Fail(std::to_string(rest.size()) + " bytes after the last item");
}

Result<void> StateDecoder::Finish() {
  SkipRest();
  if (error_) return *error_;
  return Ok();
}

}  // namespace supd
