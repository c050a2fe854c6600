//===- JsonTest.cpp - the runtime's JSON reader on good and bad input ------===//

#include "Json.h"
#include "RuntimeTestUtil.h"

#include "gtest/gtest.h"

using namespace lpattn::rt;
using json::Value;

namespace {
std::string parseError(const std::string &text) {
  Value v;
  std::string error;
  EXPECT_FALSE(json::parse(text, v, error)) << text;
  return error;
}

TEST(RuntimeJson, ParsesEveryKind) {
  Value v;
  std::string error;
  ASSERT_TRUE(json::parse(
      R"( {"a": [1, -2.5e3, 0], "b": "x", "c": true, "d": false, "e": null,
           "f": {}} )",
      v, error))
      << error;
  ASSERT_EQ(v.kind, Value::Kind::Object);
  const Value *a = v.get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->array.size(), 3u);
  EXPECT_EQ(a->array[1].number, -2500.0);
  EXPECT_EQ(v.get("b")->string, "x");
  EXPECT_TRUE(v.get("c")->boolean);
  EXPECT_EQ(v.get("d")->kind, Value::Kind::Bool);
  EXPECT_EQ(v.get("e")->kind, Value::Kind::Null);
  EXPECT_EQ(v.get("f")->kind, Value::Kind::Object);
  EXPECT_EQ(v.get("missing"), nullptr);
}

TEST(RuntimeJson, StringEscapesAndUnicode) {
  Value v;
  std::string error;
  ASSERT_TRUE(json::parse(R"("a\"\\\/\n\t\u00e9\ud83d\ude00")", v, error))
      << error;
  EXPECT_EQ(v.string, "a\"\\/\n\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_NE(parseError(R"("\ud83d")").find("unpaired UTF-16 surrogate"),
            std::string::npos);
  EXPECT_NE(parseError(R"("\q")").find("invalid escape"), std::string::npos);
  EXPECT_NE(parseError("\"a\nb\"").find("control character"),
            std::string::npos);
  EXPECT_NE(parseError(R"("\u12G4")").find("hex digit"), std::string::npos);
}

TEST(RuntimeJson, ErrorsCarryByteOffsets) {
  EXPECT_EQ(parseError("{\"a\" 1}"), "byte 5: expected ':' after the key \"a\"");
  EXPECT_EQ(parseError("[1,]"), "byte 3: unexpected character ']', expected a value");
  EXPECT_EQ(parseError("{\"a\":1,\"a\":2}"), "byte 7: duplicate key \"a\"");
  EXPECT_EQ(parseError("[1] x"), "byte 4: unexpected trailing characters after the value");
  EXPECT_EQ(parseError(""), "byte 0: unexpected end of input, expected a value");
  EXPECT_EQ(parseError("\"abc"), "byte 0: unterminated string");
  EXPECT_EQ(parseError("{\x01}"), "byte 1: expected a string key in the object");
}

TEST(RuntimeJson, RejectsMalformedNumbers) {
  for (const char *bad : {"01", "1.", "-", "1e", "1e+", ".5", "+1", "0x10"})
    EXPECT_FALSE(parseError(bad).empty()) << bad;
  EXPECT_NE(parseError("1e400").find("out of range"), std::string::npos);
  Value v;
  std::string error;
  ASSERT_TRUE(json::parse("-0.125e1", v, error)) << error;
  EXPECT_EQ(v.number, -1.25);
}

TEST(RuntimeJson, NestingIsBounded) {
  // At the limit it parses; one deeper and far deeper are one error each
  // (a recursive reader without a bound would overflow the stack here).
  Value v;
  std::string error;
  std::string ok = std::string(json::kMaxDepth, '[') +
                   std::string(json::kMaxDepth, ']');
  EXPECT_TRUE(json::parse(ok, v, error)) << error;
  std::string deeper = "[" + ok + "]";
  EXPECT_EQ(parseError(deeper), "byte 64: nesting deeper than 64 levels");
  std::string deep(200000, '[');
  EXPECT_EQ(parseError(deep), "byte 64: nesting deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\":";
  EXPECT_NE(parseError(objects).find("nesting deeper than 64"),
            std::string::npos);
}

TEST(RuntimeJson, HugeInputIsRefused) {
  std::string huge = "[" + std::string(json::kMaxBytes, ' ') + "]";
  EXPECT_NE(parseError(huge).find("more than the limit"), std::string::npos);
}

TEST(RuntimeJson, EveryTruncationOfTheExampleIsOneError) {
  std::string text = test::exampleDescriptor();
  ASSERT_GT(text.size(), 100u);
  Value v;
  std::string error;
  ASSERT_TRUE(json::parse(text, v, error)) << error;
  // Trailing whitespace aside, every proper prefix is incomplete JSON.
  size_t end = text.find_last_not_of(" \n") + 1;
  for (size_t n = 0; n < end; ++n) {
    error.clear();
    EXPECT_FALSE(json::parse(text.substr(0, n), v, error)) << n;
    EXPECT_EQ(error.rfind("byte ", 0), 0u) << n << ": " << error;
  }
}
} // namespace
