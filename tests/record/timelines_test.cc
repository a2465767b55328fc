// tests/record/timelines_test.cc: the timelines the docs embed
// (docs/timelines/, written by generate.sh from running each example with
// the recorder on). Their timestamps differ on every run, so the test checks
// that they are there and sound rather than byte-equal to a fresh run: one
// page per example that generate.sh lists and no other, each a page whose
// embedded trace is valid trace event JSON with tasks, polls and arrows.

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/record/trace_validator.h"

namespace pollwake::testing {
namespace {

std::string runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/pollwake/" + rel;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> listed_examples() {
  std::string script = slurp(runfile("docs/timelines/generate.sh"));
  std::smatch m;
  std::vector<std::string> out;
  if (!std::regex_search(script, m, std::regex(R"(EXAMPLES=\(([^)]*)\))"))) return out;
  std::stringstream names(m[1].str());
  for (std::string n; names >> n;) out.push_back(n);
  return out;
}

TEST(TimelinesTest, EachListedExampleHasAValidTimeline) {
  std::vector<std::string> examples = listed_examples();
  ASSERT_GE(examples.size(), 3u) << "generate.sh lists no examples";
  for (const std::string& e : examples) {
    SCOPED_TRACE(e);
    std::string html = slurp(runfile("docs/timelines/" + e + ".html"));
    ASSERT_FALSE(html.empty()) << "docs/timelines/" << e << ".html is missing: run generate.sh";
    EXPECT_NE(html.find("<title>" + e + ".html</title>"), std::string::npos);
    const std::string open = "<script id=\"trace-data\" type=\"application/json\">";
    std::size_t begin = html.find(open);
    ASSERT_NE(begin, std::string::npos);
    begin += open.size();
    std::size_t end = html.find("</script>", begin);
    ASSERT_NE(end, std::string::npos);
    TraceSummary sum = validate_trace(html.substr(begin, end - begin));
    EXPECT_TRUE(sum.problems.empty()) << join_problems(sum);
    EXPECT_GE(sum.task_tracks, 1);
    EXPECT_GE(sum.thread_tracks, 1);
    EXPECT_GE(sum.by_name["poll"], 2);
    EXPECT_GE(sum.flows, 1);
    EXPECT_NE(html.find("document.body.dataset.rendered = 'yes'"), std::string::npos);
  }
}

TEST(TimelinesTest, TheTourLinksEveryTimeline) {
  std::string chapter = slurp(runfile("docs/14_recorder.md"));
  ASSERT_FALSE(chapter.empty());
  for (const std::string& e : listed_examples()) {
    EXPECT_NE(chapter.find("(timelines/" + e + ".html)"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace pollwake::testing
