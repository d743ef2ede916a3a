#pragma once
// The shapes specs are made of, checked one way everywhere: DNS labels, e-mail addresses,
// http(s) URLs, bounded strings, ranged numbers, durations, and bounded arrays of objects.
// Each Read* records the field as known on the reader, sets the reader's error naming the
// field when the value is wrong (the first error wins), and returns the value when it is right.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/json.hpp"

namespace hangar::core {

// Lowercase letters, digits and '-', 1..63, starting and ending with a letter or digit.
bool IsDnsLabel(std::string_view s);
// One '@' with text on both sides; no spaces, controls, commas or angle brackets (the address
// goes into mail headers as it is); at most 254 characters.
bool IsEmailAddress(std::string_view s);
// What is wrong with `url` as an http(s) URL with a host (https only when `https_only`), or
// nullopt when nothing is. Where it may point is DestinationPolicy's business, not this.
std::optional<std::string> HttpUrlProblem(std::string_view url, bool https_only = false);

std::optional<std::string>
ReadBoundedString(ObjectReader& r, std::string_view key, size_t max, bool required = false);
std::optional<std::string>
ReadDnsLabel(ObjectReader& r, std::string_view key, bool required = false);
std::optional<std::string> ReadEmail(ObjectReader& r, std::string_view key, bool required = false);
std::optional<std::string>
ReadHttpUrl(ObjectReader& r, std::string_view key, bool https_only = false, bool required = false);
std::optional<int64_t> ReadIntInRange(
    ObjectReader& r,
    std::string_view key,
    int64_t min,
    int64_t max,
    bool required = false
);
// A duration such as "90s", "5m" or "2h" (core::ParseDuration), from `min` to `max`.
std::optional<std::chrono::seconds> ReadDuration(
    ObjectReader& r,
    std::string_view key,
    std::chrono::seconds min,
    std::chrono::seconds max,
    bool required = false
);
// An array of `min`..`max` objects, each read by `each` with a reader at "key[i]" whose
// Finish() is absorbed (so unknown fields in an element are errors too). False when the array
// is absent (and not required) or wrong; `each` is not called past the first error.
bool ReadObjectArray(
    ObjectReader& r,
    std::string_view key,
    size_t min,
    size_t max,
    const std::function<void(ObjectReader& item, size_t index)>& each,
    bool required = false
);

}  // namespace hangar::core
