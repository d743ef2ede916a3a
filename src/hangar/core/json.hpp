#pragma once
// Strict JSON reading: every field a request carries is either read or rejected, and every
// error names the field's path ("spec.labels.team"), so a client knows what to fix.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "hangar/core/error.hpp"

namespace hangar::core {

namespace json = boost::json;

// Bounds on one JSON document. Requests get the defaults (settable at start-up with
// SetJsonLimits); documents Hangar wrote itself are read with LenientLimits().
struct JsonLimits {
    size_t max_depth = 64;          // nested arrays and objects
    size_t max_elements = 100'000;  // values of any kind in the whole document
    size_t max_string = 1 << 20;    // bytes in one string or key
    bool refuse_duplicate_keys = true;
};
void SetJsonLimits(JsonLimits limits);
JsonLimits RequestJsonLimits();
JsonLimits LenientLimits();

// Parses a request body strictly: malformed text (with its byte offset), duplicate keys,
// numbers no double can hold (1e999), NUL characters in strings and anything past the limits
// are refused, each error naming the field's path ("spec.config.x").
Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits);
Result<json::value> ParseJson(std::string_view text);
// Parses and requires an object at the top.
Result<json::object> ParseJsonObject(std::string_view text, const JsonLimits& limits);
Result<json::object> ParseJsonObject(std::string_view text);
// The path of the first number that is not finite (NaN, ±Infinity) in `v`, if any: such a
// number has no JSON spelling, so nothing holding one may be stored or sent.
std::optional<std::string> FindNonFinite(const json::value& v, std::string path = {});
std::optional<std::string> FindNonFinite(const json::object& o, std::string path = {});
std::string ToJson(const json::value& v);
// Invalid UTF-8 sequences and control characters become U+FFFD, so text echoed from a client
// can go into a JSON document.
std::string ToValidUtf8(std::string_view s);
json::object ErrorToJson(const Error& e);

class ObjectReader {
public:
    ObjectReader(const json::object& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

    // Each accessor records the key as known; a present value of the wrong type sets the
    // reader's error (the first one wins) and returns nullopt.
    std::optional<std::string> String(std::string_view key, bool required = false);
    std::optional<int64_t> Int(std::string_view key, bool required = false);
    std::optional<bool> Bool(std::string_view key, bool required = false);
    const json::object* Object(std::string_view key, bool required = false);
    const json::array* Array(std::string_view key, bool required = false);
    std::optional<std::map<std::string, std::string>> StringMap(std::string_view key);
    // Marks a key as accepted without reading it (free-form sub-documents).
    const json::value* Any(std::string_view key);

    // Rejects keys nobody asked for; returns the first error seen.
    Result<void> Finish();
    bool ok() const { return !error_.has_value(); }
    void SetError(std::string field, std::string message);
    // Takes a nested reader's outcome (its Finish()) as this reader's error, if it failed.
    void Absorb(const Result<void>& nested);
    std::string PathOf(std::string_view key) const;

private:
    const json::value* Find(std::string_view key, bool required, std::string_view type);
    void TypeError(std::string_view key, std::string_view want);

    const json::object& obj_;
    std::string path_;
    std::set<std::string, std::less<>> known_;
    std::optional<Error> error_;
};

Error FieldError(std::string path, std::string message);

// Lenient reads of already-validated documents: the value, or empty/0/false when absent.
std::string StrAt(const json::object& o, std::string_view key);
int64_t IntAt(const json::object& o, std::string_view key);
bool BoolAt(const json::object& o, std::string_view key);
// The object at `key`, or nullptr when it is absent or not an object.
const json::object* ObjectAt(const json::object& o, std::string_view key);

}  // namespace hangar::core
