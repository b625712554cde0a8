// The checks on request text: TextProblem (control characters, UTF-8),
// ParseStrictJson (a key given twice at any depth, bad text anywhere) and
// the Decoder's one-line and multi-line strings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http/decode.h"

namespace saalbuch::http {
namespace {

using nlohmann::json;
using Outcome = StrictJson::Outcome;

TEST(TextProblemTest, PlainTextAndUmlautsPass) {
  EXPECT_EQ(TextProblem("Bürgerhaus Süd – Saal 1 ✓ 😀", Lines::kOne), "");
  EXPECT_EQ(TextProblem("", Lines::kOne), "");
}

TEST(TextProblemTest, EveryC0ControlIsRefusedInOneLine) {
  for (int c = 0; c < 0x20; ++c) {
    std::string s = "a";
    s += static_cast<char>(c);
    EXPECT_NE(TextProblem(s, Lines::kOne), "") << c;
  }
  EXPECT_EQ(TextProblem(std::string("a\0b", 3), Lines::kOne), "contains the control character U+0000");
}

TEST(TextProblemTest, TabAndLineFeedOnlyWhereMultiLine) {
  EXPECT_EQ(TextProblem("Zeile 1\n\tZeile 2", Lines::kMany), "");
  EXPECT_NE(TextProblem("Zeile 1\nZeile 2", Lines::kOne), "");
  EXPECT_NE(TextProblem("a\tb", Lines::kOne), "");
  EXPECT_NE(TextProblem("Zeile 1\r\nZeile 2", Lines::kMany), "");
  EXPECT_NE(TextProblem(std::string("a\0b", 3), Lines::kMany), "");
  EXPECT_NE(TextProblem("a\x1b[31m", Lines::kMany), "");
}

TEST(TextProblemTest, DelAndC1ControlsAreRefused) {
  EXPECT_EQ(TextProblem("a\x7f", Lines::kMany), "contains the control character U+007F");
  EXPECT_EQ(TextProblem("a\xc2\x80", Lines::kMany), "contains the control character U+0080");
  EXPECT_EQ(TextProblem("a\xc2\x9f", Lines::kMany), "contains the control character U+009F");
  EXPECT_EQ(TextProblem("a\xc2\xa0", Lines::kMany), "");  // NO-BREAK SPACE is text
}

TEST(TextProblemTest, InvalidUtf8IsRefused) {
  for (const char* bad : {"\xff", "\xc3", "\xc3\x28", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf0\x9f\x98"}) {
    EXPECT_EQ(TextProblem(std::string("x") + bad, Lines::kMany), "is not valid UTF-8") << bad;
  }
}

TEST(StrictJsonTest, WellFormedBodyParses) {
  auto p = ParseStrictJson(R"({"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}], "d": "x\ny"})");
  ASSERT_EQ(p.outcome, Outcome::kOk) << p.detail;
  EXPECT_EQ(p.value["c"][1]["a"], 4);
}

TEST(StrictJsonTest, DuplicateTopLevelKeyIsMalformed) {
  auto p = ParseStrictJson(R"({"resource":"grosser-saal","resource":"seminarraum"})");
  ASSERT_EQ(p.outcome, Outcome::kMalformed);
  EXPECT_EQ(p.details["key"], "resource");
  EXPECT_EQ(p.details["field"], "resource");
  EXPECT_NE(p.detail.find("\"resource\""), std::string::npos);
  EXPECT_TRUE(p.value.is_null());
}

TEST(StrictJsonTest, DuplicateKeyInNestedObjectIsMalformed) {
  auto p = ParseStrictJson(R"({"contact": {"name": "A", "email": "a@b.de", "name": "B"}})");
  ASSERT_EQ(p.outcome, Outcome::kMalformed);
  EXPECT_EQ(p.details["field"], "contact.name");
}

TEST(StrictJsonTest, DuplicateKeyInAnArrayOfObjectsIsMalformed) {
  auto p = ParseStrictJson(
      R"({"addons": [{"addon": "a", "quantity": 1}, 7, [1, {}], {"addon": "b", "quantity": 1, "quantity": 9}]})");
  ASSERT_EQ(p.outcome, Outcome::kMalformed);
  EXPECT_EQ(p.details["field"], "addons[3].quantity");
}

TEST(StrictJsonTest, SameKeyInSiblingObjectsIsFine) {
  auto p = ParseStrictJson(R"({"x": [{"k": 1}, {"k": 2}], "y": {"k": {"k": 3}}, "k": 0})");
  EXPECT_EQ(p.outcome, Outcome::kOk) << p.detail;
}

TEST(StrictJsonTest, NotJsonAndInvalidUtf8AreMalformed) {
  EXPECT_EQ(ParseStrictJson("{\"a\": ").outcome, Outcome::kMalformed);
  EXPECT_EQ(ParseStrictJson("{\"a\": \"\xff\"}").outcome, Outcome::kMalformed);
  EXPECT_EQ(ParseStrictJson("{\"a\": \"\\ud800\"}").outcome, Outcome::kMalformed);
  EXPECT_EQ(ParseStrictJson("{\"a\": \"x\x01y\"}").outcome, Outcome::kMalformed);  // raw, unescaped
}

TEST(StrictJsonTest, EscapedControlCharactersAreBadTextNamingTheField) {
  auto p = ParseStrictJson(R"({"name": "ok", "contact": {"name": "Eva\u0000"}, "list": ["a", "b\u0085"]})");
  ASSERT_EQ(p.outcome, Outcome::kBadText);
  const json fields = p.details["fields"];
  ASSERT_EQ(fields.size(), 2U) << fields;
  EXPECT_EQ(fields[0]["field"], "contact.name");
  EXPECT_EQ(fields[0]["problem"], "contains the control character U+0000");
  EXPECT_EQ(fields[1]["field"], "list[1]");
}

TEST(StrictJsonTest, ControlCharacterInAKeyIsBadText) {
  auto p = ParseStrictJson(R"({"accounts": {"ro\u007fle": "1"}})");
  ASSERT_EQ(p.outcome, Outcome::kBadText);
  EXPECT_EQ(p.details["fields"][0]["field"],
            "accounts.ro\x7f"
            "le");
}

TEST(DecoderTextTest, OneLineFieldsRefuseTabAndNewlineMultiLineFieldsKeepThem) {
  const json body = {{"name", "Eva\nMustermann"}, {"notes", "Bitte\n\tBeamer"}, {"label", "Eva\tM"}};
  Decoder d(body, {});
  EXPECT_EQ(d.Str("name", true, 200), "");
  EXPECT_EQ(d.Text("notes", false, 200), "Bitte\n\tBeamer");
  EXPECT_EQ(d.Str("label", false, 200, "x"), "x");
  ASSERT_EQ(d.errors().size(), 2U) << d.errors();
  EXPECT_EQ(d.errors()[0]["field"], "name");
  EXPECT_EQ(d.errors()[1]["field"], "label");
}

}  // namespace
}  // namespace saalbuch::http
