#include "lib/base/state_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace supd {
namespace {

using std::string_literals::operator""s;

enum class Color { kRed, kGreen, kBlue };

struct Inner {
  int32_t n = 0;
  std::string s;
};

// A struct whose default does not pass its check.
struct WithPid {
  int32_t pid = 0;
};

struct Outer {
  bool b = false;
  uint64_t u = 0;
  Color color = Color::kRed;
  std::optional<Inner> inner;
  std::vector<std::string> names;
  std::array<uint64_t, 3> counts{};
  std::chrono::microseconds span{0};
  std::vector<Inner> items;
  int32_t pid = 1;
};

struct HasWithPid {
  WithPid with_pid;
};

// A later version of Inner: one field more.
struct InnerV2 {
  int32_t n = 0;
  std::string s;
  std::string added = "default";
};

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, Inner> v) {
  io.Field(1, "n", v.n);
  io.Field(2, "s", v.s);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, InnerV2> v) {
  io.Field(1, "n", v.n);
  io.Field(2, "s", v.s);
  io.Field(3, "added", v.added);
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, WithPid> v) {
  io.Field(1, "pid", v.pid, StateCheck{[](int64_t p) { return p > 0; }, "a pid"});
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, Outer> v) {
  io.Field(1, "b", v.b);
  io.Field(2, "u", v.u);
  io.Field(3, "color", v.color, EnumCheck<Color::kBlue>("a color"));
  io.Field(4, "inner", v.inner);
  io.Field(5, "names", v.names);
  io.Field(6, "counts", v.counts);
  io.Field(7, "span", v.span);
  io.List(8, "item", v.items);
  io.Field(10, "pid", v.pid, StateCheck{[](int64_t p) { return p > 0; }, "a pid"});
}

template <typename Io>
void StateFields(Io& io, FieldsOf<Io, HasWithPid> v) {
  io.Field(1, "with_pid", v.with_pid);
}

// Wire pieces, to write what an encoder would not.
std::string U16(uint16_t v) {
  std::string out;
  AppendLittleEndian(&out, v);
  return out;
}
std::string U32(uint32_t v) {
  std::string out;
  AppendLittleEndian(&out, v);
  return out;
}
std::string Field(uint16_t tag, const std::string& payload) {
  return U16(tag) + U32(static_cast<uint32_t>(payload.size())) + payload;
}
std::string Item(const std::string& payload) {
  return U32(static_cast<uint32_t>(payload.size())) + payload;
}

template <typename T>
std::string DecodeError(const std::string& bytes) {
  T value;
  auto r = DecodeFields(bytes, &value);
  return r.ok() ? "(decoded)" : r.error().message;
}

Outer Full() {
  Outer o;
  o.b = true;
  o.u = UINT64_MAX;
  o.color = Color::kBlue;
  o.inner = Inner{-7, "in\nner\0"s};
  o.names = {"a", "", "c\0d"s};
  o.counts = {1, 2, 3};
  o.span = std::chrono::microseconds(-5);
  o.items = {Inner{1, "one"}, Inner{2, "two"}};
  o.pid = 4242;
  return o;
}

TEST(StateCodec, RoundTripsEveryKindOfValue) {
  const Outer o = Full();
  Outer back;
  ASSERT_TRUE(DecodeFields(EncodeFields(o), &back).ok());
  EXPECT_EQ(o.b, back.b);
  EXPECT_EQ(o.u, back.u);
  EXPECT_EQ(o.color, back.color);
  ASSERT_TRUE(back.inner.has_value());
  EXPECT_EQ(-7, back.inner->n);
  EXPECT_EQ("in\nner\0"s, back.inner->s);
  EXPECT_EQ(o.names, back.names);
  EXPECT_EQ(o.counts, back.counts);
  EXPECT_EQ(o.span, back.span);
  ASSERT_EQ(2u, back.items.size());
  EXPECT_EQ(2, back.items[1].n);
  EXPECT_EQ("two", back.items[1].s);
  EXPECT_EQ(4242, back.pid);
}

TEST(StateCodec, WritesTagLengthValueLittleEndian) {
  EXPECT_EQ(Field(1, "\x07\x00\x00\x00"s) + Field(2, "ab"), EncodeFields(Inner{7, "ab"}));
  Outer o;
  o.names = {"x", "yz"};
  const std::string bytes = EncodeFields(o);
  // A list is a count and sized items.
  EXPECT_NE(std::string::npos, bytes.find(Field(5, U32(2) + Item("x") + Item("yz"))));
}

TEST(StateCodec, SkipsFieldsItDoesNotKnowAndKeepsDefaultsForAbsentOnes) {
  // A later writer's record, read by this one: field 3 skipped.
  Inner inner;
  ASSERT_TRUE(DecodeFields(EncodeFields(InnerV2{5, "s", "new"}), &inner).ok());
  EXPECT_EQ(5, inner.n);
  EXPECT_EQ("s", inner.s);
  // Unknown fields between known ones and inside a nested record are skipped too.
  Outer o;
  const std::string inner_fields = Field(1, U32(3)) + Field(7, "x");
  ASSERT_TRUE(DecodeFields(Field(2, U32(9) + U32(0)) + Field(4, inner_fields) + Field(9, "junk") +
                               Field(10, U32(5)) + Field(11, ""),
                           &o)
                  .ok());
  EXPECT_EQ(9u, o.u);
  EXPECT_EQ(3, o.inner->n);
  EXPECT_EQ(5, o.pid);
  // An earlier writer's record: the field it did not have keeps its default.
  InnerV2 v2;
  ASSERT_TRUE(DecodeFields(EncodeFields(Inner{5, "s"}), &v2).ok());
  EXPECT_EQ("default", v2.added);
}

TEST(StateCodec, RefusesFieldsOutOfOrderOrTwice) {
  EXPECT_EQ("field tag 1 after tag 2: fields out of order",
            DecodeError<Inner>(Field(2, "s") + Field(1, U32(1))));
  EXPECT_EQ("field tag 2 twice", DecodeError<Inner>(Field(2, "s") + Field(2, "t")));
  EXPECT_EQ("field inner: field tag 1 twice",
            DecodeError<Outer>(Field(4, Field(1, U32(1)) + Field(1, U32(1)))));
}

TEST(StateCodec, RefusesLengthsPastTheEndNamingTheField) {
  EXPECT_EQ("field s: length 4294967295 past the end (2 bytes left)",
            DecodeError<Inner>(U16(2) + U32(UINT32_MAX) + "ab"));
  EXPECT_EQ("field tag 9: length 3 past the end (0 bytes left)",
            DecodeError<Inner>(U16(9) + U32(3)));
  EXPECT_EQ("a field header cut short: 3 bytes of 6", DecodeError<Inner>("\x01\x00\x04"s));
  // Inside a list item, the item is named.
  const std::string bad_item = Field(1, U32(1)) + U16(2) + U32(100) + "ab";
  EXPECT_EQ("item 1: field s: length 100 past the end (2 bytes left)",
            DecodeError<Outer>(Field(8, U32(2) + Item(EncodeFields(Inner{})) + Item(bad_item))));
  EXPECT_EQ("item 0: length 99 past the end (0 bytes left)",
            DecodeError<Outer>(Field(8, U32(1) + U32(99))));
  // The list itself is named by its items.
  EXPECT_EQ("items: 7 items cannot fit in the 0 bytes left", DecodeError<Outer>(Field(8, U32(7))));
  EXPECT_EQ("items: 1 bytes after the last item", DecodeError<Outer>(Field(8, U32(0) + "x")));
}

TEST(StateCodec, RefusesCountsTheBytesCannotHold) {
  EXPECT_EQ("field names: 4294967295 items cannot fit in the 0 bytes left",
            DecodeError<Outer>(Field(5, U32(UINT32_MAX))));
  EXPECT_EQ("field names: 2 items cannot fit in the 4 bytes left",
            DecodeError<Outer>(Field(5, U32(2) + Item(""))));
  EXPECT_EQ("field names: a count cut short: 2 bytes of 4", DecodeError<Outer>(Field(5, "ab")));
  EXPECT_EQ("field counts: 4 items, more than the 3 there are",
            DecodeError<Outer>(Field(6, U32(4) + std::string(48, '\0'))));
  EXPECT_EQ("field names: 1 bytes after the last item",
            DecodeError<Outer>(Field(5, U32(1) + Item("a") + "z")));
}

TEST(StateCodec, AnArrayMayHaveFewerItemsThanItHolds) {
  Outer o;
  std::string one;
  AppendLittleEndian(&one, uint64_t{8});
  ASSERT_TRUE(DecodeFields(Field(6, U32(1) + Item(one)), &o).ok());
  EXPECT_EQ((std::array<uint64_t, 3>{8, 0, 0}), o.counts);
}

TEST(StateCodec, RefusesValuesOutOfRange) {
  EXPECT_EQ("field b: 2 is not a bool (0 or 1)", DecodeError<Outer>(Field(1, "\x02")));
  EXPECT_EQ("field color: 3 is not a color", DecodeError<Outer>(Field(3, U32(3))));
  EXPECT_EQ("field color: -1 is not a color", DecodeError<Outer>(Field(3, U32(UINT32_MAX))));
  EXPECT_EQ("field pid: 0 is not a pid", DecodeError<Outer>(Field(10, U32(0))));
  EXPECT_EQ("field u: length 4, not the 8 bytes of its integer",
            DecodeError<Outer>(Field(2, U32(1))));
  EXPECT_EQ("field b: length 0, not the 1 bytes of its integer", DecodeError<Outer>(Field(1, "")));
}

TEST(StateCodec, RefusesAnAbsentFieldWhoseDefaultFailsItsCheck) {
  EXPECT_EQ("field pid: absent, and its default 0 is not a pid", DecodeError<WithPid>(""));
  EXPECT_EQ("field pid: absent, and its default 0 is not a pid",
            DecodeError<WithPid>(Field(2, "later")));
  WithPid w;
  EXPECT_TRUE(DecodeFields(Field(1, U32(7)), &w).ok());
  // Inside a struct that is absent as a whole, too.
  EXPECT_EQ("field with_pid.pid: absent, and its default 0 is not a pid",
            DecodeError<HasWithPid>(""));
}

TEST(StateCodec, TruncatedInsideAFieldIsRefusedAtEveryByte) {
  const std::string bytes = EncodeFields(Full());
  // Cut at a field's end, a record is a shorter record (the top of a saved state has a length
  // for that); cut anywhere else, it is refused, and never read past its end (ASan checks).
  size_t refused = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    Outer o;
    if (!DecodeFields(bytes.substr(0, n), &o).ok()) ++refused;
  }
  EXPECT_GE(refused, bytes.size() - 10);
}

TEST(StateCodec, StringsHoldAnyBytes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string tricky = all + Field(1, U32(9)) + "\n\0SUPDSTAT"s;
  Inner back;
  ASSERT_TRUE(DecodeFields(EncodeFields(Inner{1, tricky}), &back).ok());
  EXPECT_EQ(tricky, back.s);
  EXPECT_EQ(1, back.n);
}

}  // namespace
}  // namespace supd
