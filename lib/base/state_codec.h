// StateEncoder / StateDecoder: a small, bounded binary format for plain structs (what one supd
// hands to the supd it execs, lib/supervise/saved_state.h), never lines of text.
//
// A struct is a record: a sequence of fields, each (u16 tag, u32 length, payload), tags
// increasing. A struct says which fields it has once, for both directions, in a function found
// by argument-dependent lookup (as nlohmann's to_json/from_json):
//
//   template <typename Io>
//   void StateFields(Io& io, FieldsOf<Io, ExitStatus> s) {
//     io.Field(1, "exited", s.exited);
//     io.Field(2, "code", s.code);
//   }
//
// With a StateEncoder `io` writes each field; with a StateDecoder it fills the struct from the
// field with that tag. A decoder skips fields with tags it does not know (a later supd added
// them) and leaves a field that is absent at the struct's default (an earlier supd did not have
// it), checked as if it had been written (an absent struct is read as an empty one). Payloads,
// all integers little-endian:
//   bool                 1 byte, 0 or 1
//   integer              its own width (int: 4 bytes, size_t: 8); an enum: 4 bytes
//   std::chrono duration 8 bytes, its count
//   std::string          the bytes as they are (the field's length says where they end)
//   std::vector, array   u32 count, then each item as (u32 length, payload); an array may
//                        have fewer items than it holds (the rest keep their defaults)
//   std::optional        the field is absent when empty
//   a struct             its fields (a record)
//
// The decoder never reads past its input and allocates by what it has read: a count the bytes
// left could not hold is refused, and the items are added as they are read (at most one per 4
// bytes of input). It refuses rather than guesses: a wrong length for an integer, a bool that is
// not 0 or 1, a value a StateCheck refuses, fields out of order or twice, bytes left after the
// last item of a list. Its error names the path to the field: "service 3: field
// last_exit.reason: length 4294967295 past the end (12 bytes left)". It stops at the first
// error; the struct is then partly filled, and the caller drops it.
//
// Nothing here knows supd's structs; not thread-safe (one encoder or decoder per thread).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lib/base/result.h"

namespace supd {

// What StateFields() gets: the struct as const for the encoder, mutable for the decoder.
template <typename Io, typename T>
using FieldsOf = std::conditional_t<Io::kEncodes, const T&, T&>;

// A rule for an integer or enum the decoder reads: a value `ok` refuses is refused as
// "<value> is not <what>" ("9 is not a service state"), and so is a field that is absent when
// the struct's default fails the rule. The encoder does not check.
struct StateCheck {
  bool (*ok)(int64_t value) = nullptr;  // nullptr: any value
  const char* what = "";
};

// Accepts an enum's values, 0 up to kLast (the enums checked with it count from 0).
template <auto kLast>
constexpr StateCheck EnumCheck(const char* what) {
  return StateCheck{[](int64_t v) { return v >= 0 && v <= static_cast<int64_t>(kLast); }, what};
}

// Fixed-width little-endian integers, for headers around a record.
template <typename T>
void AppendLittleEndian(std::string* out, T value) {
  using U = std::make_unsigned_t<T>;
  const auto u = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}
// REQUIRES: bytes.size() >= sizeof(T)
template <typename T>
T LoadLittleEndian(std::string_view bytes) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    u |= static_cast<U>(static_cast<U>(static_cast<unsigned char>(bytes[i])) << (8 * i));
  return static_cast<T>(u);
}

namespace state_codec_internal {
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsArray : std::false_type {};
template <typename T, size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
template <typename T>
struct IsDuration : std::false_type {};
template <typename R, typename P>
struct IsDuration<std::chrono::duration<R, P>> : std::true_type {};

// The integer an integer, enum or bool is written as.
template <typename T>
using WireInt = std::conditional_t<std::is_enum_v<T>, int32_t,
                                   std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>>;
}  // namespace state_codec_internal

// Writes records. Never fails.
class StateEncoder {
 public:
  static constexpr bool kEncodes = true;

  template <typename T>
  void Field(uint16_t tag, const char* name, const T& value, StateCheck check = {});
  template <typename T>
  void Field(uint16_t tag, const char* name, const std::optional<T>& value, StateCheck check = {}) {
    if (value) Field(tag, name, *value, check);
  }
  // A list whose items an error calls "<item> <index>" ("service 3"): the same bytes as Field.
  template <typename T>
  void List(uint16_t tag, const char* item, const std::vector<T>& items) {
    Field(tag, item, items);
  }

  // The fields written so far: a record's payload.
  std::string Take() && { return std::move(out_); }

 private:
  template <typename T>
  void Value(const T& value);
  // Appends a u32 length for EndLength() to fill in; returns where it is.
  size_t BeginLength();
  void EndLength(size_t at);

  std::string out_;
};

// Reads one record. Fields must be asked for in increasing tag order (as StateFields lists them).
class StateDecoder {
 public:
  static constexpr bool kEncodes = false;

  // `record` (the fields) must outlive the decoder.
  explicit StateDecoder(std::string_view record) : record_{record} {}

  template <typename T>
  void Field(uint16_t tag, const char* name, T& value, StateCheck check = {});
  template <typename T>
  void Field(uint16_t tag, const char* name, std::optional<T>& value, StateCheck check = {});
  template <typename T>
  void List(uint16_t tag, const char* item, std::vector<T>& items);

  // Skips the record's fields not asked for (a later supd's), checking their framing; the
  // first error, with its path.
  [[nodiscard]] Result<void> Finish();

 private:
  struct Record {
    std::string_view rest;  // the fields not read yet
    int last_tag = -1;      // the tag of the field read last
  };
  struct Segment {
    std::string text;    // "last_exit", "[2]", "service 3"
    bool label = false;  // an item named by a label ("service 3"): starts a new part of the path
  };
  // Names a part of the path for as long as it lives.
  class Scope {
   public:
    Scope(StateDecoder* d, std::string text, bool label = false) : d_(d) {
      d_->path_.push_back(Segment{std::move(text), label});
    }
    ~Scope() { d_->path_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StateDecoder* d_;
  };

  bool failed() const { return error_.has_value(); }
  // Keeps the first error, at the current path.
  void Fail(const std::string& what);
  // Finds field `tag` (called `name`) in the current record, skipping the unknown fields before
  // it. False when it is absent or on an error.
  bool NextField(uint16_t tag, const char* name, std::string_view* payload);
  // Skips the rest of the current record's fields.
  void SkipRest();
  // Takes a u32 length and that many bytes from the front of *bytes.
  bool TakeSized(std::string_view* bytes, std::string_view* out);
  // Takes a list's u32 count, refused above `max` or above what *bytes could hold.
  bool TakeCount(std::string_view* bytes, size_t max, uint32_t* count);
  void TrailingBytes(std::string_view rest);
  template <typename W>
  bool TakeInteger(std::string_view payload, StateCheck check, W* out);

  template <typename T>
  void Value(std::string_view payload, T& value, StateCheck check);
  template <typename T>
  void Items(std::string_view payload, std::vector<T>& items, const char* label, StateCheck check);
  template <typename T, size_t N>
  void Items(std::string_view payload, std::array<T, N>& items, StateCheck check);

  Record record_;
  std::vector<Segment> path_;
  std::optional<Error> error_;
};

// The payload of a record holding `value`'s fields, and back.
template <typename T>
std::string EncodeFields(const T& value) {
  StateEncoder encoder;
  StateFields(encoder, value);
  return std::move(encoder).Take();
}
template <typename T>
[[nodiscard]] Result<void> DecodeFields(std::string_view record, T* value) {
  StateDecoder decoder(record);
  StateFields(decoder, *value);
  return decoder.Finish();
}

// ----- Implementation of the templates -----

template <typename T>
void StateEncoder::Field(uint16_t tag, const char* /*name*/, const T& value, StateCheck) {
  AppendLittleEndian(&out_, tag);
  const size_t at = BeginLength();
  Value(value);
  EndLength(at);
}

template <typename T>
void StateEncoder::Value(const T& value) {
  using namespace state_codec_internal;
  if constexpr (std::is_same_v<T, std::string>) {
    out_ += value;
  } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    AppendLittleEndian(&out_, static_cast<WireInt<T>>(value));
  } else if constexpr (IsDuration<T>::value) {
    AppendLittleEndian(&out_, static_cast<int64_t>(value.count()));
  } else if constexpr (IsVector<T>::value || IsArray<T>::value) {
    AppendLittleEndian(&out_, static_cast<uint32_t>(value.size()));
    for (const auto& item : value) {
      const size_t at = BeginLength();
      Value(item);
      EndLength(at);
    }
  } else {
    StateFields(*this, value);  // a struct, by argument-dependent lookup
  }
}

template <typename T>
void StateDecoder::Field(uint16_t tag, const char* name, T& value, StateCheck check) {
  using namespace state_codec_internal;
  std::string_view payload;
  const bool found = NextField(tag, name, &payload);
  Scope scope(this, name);
  if (found) {
    Value(payload, value, check);
    return;
  }
  // Absent, it keeps its default, which must pass the check too (a pid's default 0 does not):
  // a check holds for every value decoded, whatever the writer left out. An absent struct is
  // an empty one, its fields checked so.
  if (failed()) return;
  if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    if (check.ok != nullptr && !check.ok(static_cast<int64_t>(value))) {
      Fail("absent, and its default " + std::to_string(static_cast<int64_t>(value)) + " is not " +
           check.what);
    }
  } else if constexpr (!std::is_same_v<T, std::string> && !IsDuration<T>::value &&
                       !IsVector<T>::value && !IsArray<T>::value) {
    Value(std::string_view(), value, check);
  }
}

template <typename T>
void StateDecoder::Field(uint16_t tag, const char* name, std::optional<T>& value,
                         StateCheck check) {
  std::string_view payload;
  if (!NextField(tag, name, &payload)) return;
  Scope scope(this, name);
  Value(payload, value.emplace(), check);
}

template <typename T>
void StateDecoder::List(uint16_t tag, const char* item, std::vector<T>& items) {
  std::string_view payload;
  if (!NextField(tag, item, &payload)) return;
  Items(payload, items, item, StateCheck{});
}

template <typename T>
void StateDecoder::Value(std::string_view payload, T& value, StateCheck check) {
  using namespace state_codec_internal;
  if constexpr (std::is_same_v<T, std::string>) {
    value.assign(payload);
  } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    if constexpr (std::is_same_v<T, bool>)
      check = StateCheck{[](int64_t v) { return v == 0 || v == 1; }, "a bool (0 or 1)"};
    WireInt<T> w{};
    if (!std::is_enum_v<T> || check.ok != nullptr) {
      if (TakeInteger(payload, check, &w)) value = static_cast<T>(w);
    } else {
      Fail("an enum without a range check");  // a bug in StateFields: every enum needs one
    }
  } else if constexpr (IsDuration<T>::value) {
    int64_t count = 0;
    if (TakeInteger(payload, check, &count)) value = T(count);
  } else if constexpr (IsVector<T>::value) {
    Items(payload, value, nullptr, check);
  } else if constexpr (IsArray<T>::value) {
    Items(payload, value, check);
  } else {
    const Record outer = record_;
    record_ = Record{payload};
    StateFields(*this, value);  // a struct, by argument-dependent lookup
    SkipRest();
    record_ = outer;
  }
}

template <typename W>
bool StateDecoder::TakeInteger(std::string_view payload, StateCheck check, W* out) {
  if (payload.size() != sizeof(W)) {
    Fail("length " + std::to_string(payload.size()) + ", not the " + std::to_string(sizeof(W)) +
         " bytes of its integer");
    return false;
  }
  const W w = LoadLittleEndian<W>(payload);
  if (check.ok != nullptr && !check.ok(static_cast<int64_t>(w))) {
    Fail(std::to_string(w) + " is not " + check.what);
    return false;
  }
  *out = w;
  return true;
}

template <typename T>
void StateDecoder::Items(std::string_view payload, std::vector<T>& items, const char* label,
                         StateCheck check) {
  // A labelled list ("service") is called by its items ("services") where its count is wrong.
  const auto list_scope = [&](std::optional<Scope>* scope) {
    if (label != nullptr) scope->emplace(this, std::string(label) + "s", true);
  };
  uint32_t count = 0;
  {
    std::optional<Scope> scope;
    list_scope(&scope);
    if (!TakeCount(&payload, SIZE_MAX, &count)) return;
  }
  items.clear();
  // One at a time, not resize(count): an item costs at least its 4-byte length of input.
  for (uint32_t i = 0; i < count && !failed(); ++i) {
    Scope scope(this,
                label != nullptr ? std::string(label) + " " + std::to_string(i)
                                 : "[" + std::to_string(i) + "]",
                label != nullptr);
    std::string_view item;
    if (TakeSized(&payload, &item)) Value(item, items.emplace_back(), check);
  }
  if (failed()) return;
  std::optional<Scope> scope;
  list_scope(&scope);
  TrailingBytes(payload);
}

template <typename T, size_t N>
void StateDecoder::Items(std::string_view payload, std::array<T, N>& items, StateCheck check) {
  uint32_t count = 0;
  if (!TakeCount(&payload, N, &count)) return;
  // Fewer than N: an earlier supd had fewer of them; the rest keep their defaults.
  for (uint32_t i = 0; i < count && !failed(); ++i) {
    Scope scope(this, "[" + std::to_string(i) + "]");
    std::string_view item;
    if (TakeSized(&payload, &item)) Value(item, items[i], check);
  }
  if (!failed()) TrailingBytes(payload);
}

}  // namespace supd
