#pragma once
// Small helpers the tests and the benchmark drivers share.

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>

namespace hangar::testing {

// A process's user+system CPU time in seconds, from /proc/<pid>/stat.
inline double CpuSeconds(int pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    long ticks = 0;
    for (int i = 3; i <= 15; ++i) {
        rest >> field;
        if (i == 14 || i == 15) {
            ticks += std::stol(field);
        }
    }
    return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The value at a path of object keys as text ("" when absent; non-strings serialized).
inline std::string Str(const boost::json::value& v, std::initializer_list<const char*> path) {
    const boost::json::value* cur = &v;
    for (const char* p : path) {
        if (!cur->is_object() || !cur->as_object().contains(p)) {
            return "";
        }
        cur = &cur->as_object().at(p);
    }
    return cur->is_string() ? std::string(cur->as_string()) : boost::json::serialize(*cur);
}

}  // namespace hangar::testing
