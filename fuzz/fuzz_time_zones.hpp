#pragma once
// Time zone names in fuzzed specs, made safe to hand to cctz.
//
// The schedule validators pass a spec's "time_zone" string to cctz::load_time_zone, which
// (1) opens the file the name points at (an absolute path, "../", "file:..." and so on; a FIFO
// or /dev/tty would block the fuzzer) and (2) caches every name it was asked for, failed ones
// included, for the life of the process, so millions of distinct fuzzed names would grow
// memory without bound. Neither is a parse bug the fuzzer should chase, so names outside a
// fixed list become one fixed unknown name. (Both are worth fixing in Hangar itself: see
// fuzz/README.md.)

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace hangar::fuzz {

inline constexpr std::array<std::string_view, 10> kKnownTimeZones = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Etc/GMT+12",
    "Not/AZone",
};

// Replaces, anywhere in `root`, the string value of every "time_zone" key that is not in
// kKnownTimeZones with "Not/AZone" (kept as a name that fails to load).
inline void SanitizeTimeZones(boost::json::value& root) {
    std::vector<boost::json::value*> todo{&root};
    while (!todo.empty()) {
        boost::json::value* v = todo.back();
        todo.pop_back();
        if (auto* o = v->if_object()) {
            for (auto& kv : *o) {
                if (kv.key() == "time_zone" && kv.value().is_string()) {
                    std::string_view tz(kv.value().get_string());
                    if (std::find(kKnownTimeZones.begin(), kKnownTimeZones.end(), tz) ==
                        kKnownTimeZones.end()) {
                        kv.value() = "Not/AZone";
                    }
                } else {
                    todo.push_back(&kv.value());
                }
            }
        } else if (auto* a = v->if_array()) {
            for (auto& e : *a) {
                todo.push_back(&e);
            }
        }
    }
}

}  // namespace hangar::fuzz
