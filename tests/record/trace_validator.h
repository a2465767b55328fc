// tests/record/trace_validator.h
//
// A checker for the Chrome trace event format (the "Trace Event Format"
// document that chrome://tracing and Perfetto's JSON importer follow), as
// far as the recorder uses it, with the small JSON parser it needs:
//   * the top level is {"traceEvents": [...]} (the object form);
//   * every event has ph, ts, pid, tid and name (ph "M" metadata included:
//     the recorder writes ts 0 for them);
//   * "B"/"E" pairs match per (pid, tid), properly nested; "X" has dur >= 0;
//   * flow events: every "s" id has exactly one "f" with the same id, not
//     earlier than it, and the other way round;
//   * no tid names a track (thread_name metadata) under two pids: Perfetto's
//     JSON importer takes a tid for one thread whatever its pid, so tracks
//     of different processes sharing a tid would be merged.
// It returns the problems it found as text (empty: valid), so a test prints
// them.

#ifndef POLLWAKE_TESTS_RECORD_TRACE_VALIDATOR_H_
#define POLLWAKE_TESTS_RECORD_TRACE_VALIDATOR_H_

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pollwake::testing {

struct Json {
  struct Member;  // one key and its value (below)

  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool b = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<Member> object;  // in the text's order

  const Json* get(const std::string& key) const;
};

// Not std::pair<std::string, Json>: libstdc++'s pair asks, as it is
// instantiated, whether Json is default constructible, which makes clang
// define Json's destructor, which destroys a vector of that same pair,
// still incomplete: clang rejects the cycle (g++ does not).
struct Json::Member {
  std::string key;
  Json value;
};

inline const Json* Json::get(const std::string& key) const {
  for (const Member& m : object) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}
  // Parses the whole text; on error returns false and sets error().
  bool parse(Json& out) {
    if (!value(out)) return false;
    ws();
    if (i_ != s_.size()) return fail("trailing characters");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(i_);
    return false;
  }
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool lit(const char* word) {
    std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return fail("bad literal");
    i_ += w.size();
    return true;
  }
  bool str(std::string& out) {
    if (s_[i_] != '"') return fail("expected string");
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c == '\\') {
        if (i_ >= s_.size()) return fail("bad escape");
        char e = s_[i_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u':
            if (i_ + 4 > s_.size()) return fail("bad \\u escape");
            out += static_cast<char>(std::strtol(s_.substr(i_, 4).c_str(), nullptr, 16));
            i_ += 4;
            break;
          default: return fail("bad escape");
        }
      } else {
        out += c;
      }
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    ++i_;
    return true;
  }
  bool value(Json& out) {
    ws();
    if (i_ >= s_.size()) return fail("unexpected end");
    char c = s_[i_];
    if (c == '{') {
      out.type = Json::Type::kObject;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        std::string key;
        if (!str(key)) return false;
        ws();
        if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
        ++i_;
        Json v;
        if (!value(v)) return false;
        out.object.push_back({std::move(key), std::move(v)});
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      out.type = Json::Type::kArray;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (;;) {
        Json v;
        if (!value(v)) return false;
        out.array.push_back(std::move(v));
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      out.type = Json::Type::kString;
      return str(out.string);
    }
    if (c == 't') return out.type = Json::Type::kBool, out.b = true, lit("true");
    if (c == 'f') return out.type = Json::Type::kBool, lit("false");
    if (c == 'n') return lit("null");
    const char* begin = s_.c_str() + i_;
    char* end = nullptr;
    out.number = std::strtod(begin, &end);
    if (end == begin) return fail("bad value");
    out.type = Json::Type::kNumber;
    i_ += static_cast<std::size_t>(end - begin);
    return true;
  }

  const std::string& s_;
  std::size_t i_ = 0;
  std::string error_;
};

struct TraceSummary {
  std::vector<std::string> problems;
  int events = 0;
  int thread_tracks = 0;  // thread_name metadata under pid 1
  int task_tracks = 0;    // thread_name metadata under pid 2
  int slices = 0;         // X, and B/E pairs
  int flows = 0;          // matched s/f pairs
  std::map<std::string, int> by_name;  // count of X slices by cat
};

inline TraceSummary validate_trace(const std::string& text) {
  TraceSummary sum;
  Json root;
  JsonParser parser(text);
  if (!parser.parse(root)) {
    sum.problems.push_back("not JSON: " + parser.error());
    return sum;
  }
  const Json* events = root.type == Json::Type::kObject ? root.get("traceEvents") : nullptr;
  if (events == nullptr || events->type != Json::Type::kArray) {
    sum.problems.push_back("no traceEvents array");
    return sum;
  }
  std::map<std::pair<double, double>, std::vector<std::string>> open;  // (pid, tid) -> B names
  std::map<double, std::pair<int, double>> starts, finishes;           // flow id -> (count, ts)
  std::map<double, std::set<double>> track_pids;                       // tid -> pids naming it
  int index = 0;
  for (const Json& e : events->array) {
    ++sum.events;
    std::string where = "event " + std::to_string(index++);
    if (e.type != Json::Type::kObject) {
      sum.problems.push_back(where + ": not an object");
      continue;
    }
    const Json* ph = e.get("ph");
    const Json* ts = e.get("ts");
    const Json* pid = e.get("pid");
    const Json* tid = e.get("tid");
    const Json* name = e.get("name");
    if (!ph || ph->type != Json::Type::kString || ph->string.empty() || !ts ||
        ts->type != Json::Type::kNumber || !pid || pid->type != Json::Type::kNumber || !tid ||
        tid->type != Json::Type::kNumber || !name || name->type != Json::Type::kString) {
      sum.problems.push_back(where + ": missing or mistyped ph/ts/pid/tid/name");
      continue;
    }
    const std::string& p = ph->string;
    auto track = std::make_pair(pid->number, tid->number);
    if (p == "M") {
      if (name->string == "thread_name") {
        (pid->number == 1 ? sum.thread_tracks : sum.task_tracks)++;
        track_pids[tid->number].insert(pid->number);
      }
    } else if (p == "X") {
      const Json* dur = e.get("dur");
      if (!dur || dur->type != Json::Type::kNumber || dur->number < 0) {
        sum.problems.push_back(where + ": X without a dur >= 0");
      }
      const Json* cat = e.get("cat");
      sum.by_name[cat && cat->type == Json::Type::kString ? cat->string : ""]++;
      ++sum.slices;
    } else if (p == "B") {
      open[track].push_back(name->string);
    } else if (p == "E") {
      if (open[track].empty()) {
        sum.problems.push_back(where + ": E without a B on its track");
      } else {
        open[track].pop_back();
        ++sum.slices;
      }
    } else if (p == "s" || p == "f") {
      const Json* id = e.get("id");
      if (!id || id->type != Json::Type::kNumber) {
        sum.problems.push_back(where + ": flow event without an id");
        continue;
      }
      auto& slot = (p == "s" ? starts : finishes)[id->number];
      ++slot.first;
      slot.second = ts->number;
    } else if (p != "i" && p != "I" && p != "C") {
      sum.problems.push_back(where + ": unexpected ph \"" + p + "\"");
    }
  }
  for (const auto& [track, names] : open) {
    if (!names.empty()) sum.problems.push_back("a B without its E (\"" + names.back() + "\")");
  }
  for (const auto& [id, s] : starts) {
    auto f = finishes.find(id);
    std::string which = "flow " + std::to_string(static_cast<long long>(id));
    if (s.first != 1) sum.problems.push_back(which + ": " + std::to_string(s.first) + " starts");
    if (f == finishes.end()) {
      sum.problems.push_back(which + ": start without a finish");
    } else if (f->second.first != 1) {
      sum.problems.push_back(which + ": " + std::to_string(f->second.first) + " finishes");
    } else if (f->second.second < s.second) {
      sum.problems.push_back(which + ": finishes before it starts");
    } else {
      ++sum.flows;
    }
  }
  for (const auto& [tid, pids] : track_pids) {
    if (pids.size() > 1) {
      sum.problems.push_back("tid " + std::to_string(static_cast<long long>(tid)) + " names a track in " +
                             std::to_string(pids.size()) + " processes");
    }
  }
  for (const auto& [id, f] : finishes) {
    if (!starts.count(id)) {
      sum.problems.push_back("flow " + std::to_string(static_cast<long long>(id)) +
                             ": finish without a start");
    }
  }
  return sum;
}

inline std::string join_problems(const TraceSummary& s) {
  std::string out;
  for (const auto& p : s.problems) out += p + "\n";
  return out;
}

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_RECORD_TRACE_VALIDATOR_H_
