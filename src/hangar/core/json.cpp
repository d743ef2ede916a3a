#include "hangar/core/json.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

namespace hangar::core {

namespace {

std::atomic<size_t> g_max_depth{JsonLimits{}.max_depth};
std::atomic<size_t> g_max_elements{JsonLimits{}.max_elements};
std::atomic<size_t> g_max_string{JsonLimits{}.max_string};

using error_code = boost::system::error_code;
using string_view = boost::json::string_view;

// basic_parser's handler: builds the value on a value_stack as boost::json::parser does, and
// keeps the path of the value being read so that every refusal names its field.
class StrictBuilder {
public:
    static constexpr size_t max_object_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_array_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_key_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_string_size = std::numeric_limits<size_t>::max();

    explicit StrictBuilder(const JsonLimits& limits) : limits_(limits) { st_.reset(); }

    json::value Release() { return st_.release(); }
    const std::optional<Error>& error() const { return error_; }

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code& ec) { return Open(true, ec); }
    bool on_object_end(size_t n, error_code&) {
        Close();
        st_.push_object(n);
        return true;
    }
    bool on_array_begin(error_code& ec) { return Open(false, ec); }
    bool on_array_end(size_t n, error_code&) {
        Close();
        st_.push_array(n);
        return true;
    }
    bool on_key_part(string_view s, size_t n, error_code& ec) {
        if (!CheckText(s, n, ec)) {
            return false;
        }
        key_.append(s);
        return true;
    }
    bool on_key(string_view s, size_t n, error_code& ec) {
        if (!CheckText(s, n, ec)) {
            return false;
        }
        key_.append(s);
        Level& l = levels_.back();
        if (limits_.refuse_duplicate_keys && !l.keys.insert(key_).second) {
            return Refuse(
                Path(key_), "appears twice in one object (duplicate keys are refused)", ec
            );
        }
        l.key = key_;
        st_.push_key(key_);
        key_.clear();
        return true;
    }
    bool on_string_part(string_view s, size_t n, error_code& ec) {
        if (!CheckText(s, n, ec)) {
            return false;
        }
        st_.push_chars(s);
        return true;
    }
    bool on_string(string_view s, size_t n, error_code& ec) {
        if (!CheckText(s, n, ec) || !Count(ec)) {
            return false;
        }
        st_.push_string(s);
        return Next();
    }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(int64_t v, string_view, error_code& ec) {
        if (!Count(ec)) {
            return false;
        }
        st_.push_int64(v);
        return Next();
    }
    bool on_uint64(uint64_t v, string_view, error_code& ec) {
        if (!Count(ec)) {
            return false;
        }
        st_.push_uint64(v);
        return Next();
    }
    bool on_double(double v, string_view, error_code& ec) {
        if (!std::isfinite(v)) {
            return Refuse(
                Path(), "is a number too large for a double (the largest is about 1.8e308)", ec
            );
        }
        if (!Count(ec)) {
            return false;
        }
        st_.push_double(v);
        return Next();
    }
    bool on_bool(bool v, error_code& ec) {
        if (!Count(ec)) {
            return false;
        }
        st_.push_bool(v);
        return Next();
    }
    bool on_null(error_code& ec) {
        if (!Count(ec)) {
            return false;
        }
        st_.push_null();
        return Next();
    }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

private:
    struct Level {
        bool object;
        size_t index = 0;  // arrays: the element being read
        std::string key;   // objects: the member being read
        std::unordered_set<std::string> keys;
    };

    bool Open(bool object, error_code& ec) {
        if (!Count(ec)) {
            return false;
        }
        if (levels_.size() >= limits_.max_depth) {
            return Refuse(
                Path(), fmt::format("nests deeper than {} levels", limits_.max_depth), ec
            );
        }
        levels_.push_back(Level{object, 0, {}, {}});
        return true;
    }
    void Close() {
        levels_.pop_back();
        Next();
    }
    // A value finished: the enclosing array moves to its next element.
    bool Next() {
        if (!levels_.empty() && !levels_.back().object) {
            ++levels_.back().index;
        }
        return true;
    }
    bool Count(error_code& ec) {
        if (++elements_ > limits_.max_elements) {
            return Refuse(
                Path(),
                fmt::format("the document holds more than {} values", limits_.max_elements),
                ec
            );
        }
        return true;
    }
    // Strings and keys: bounded length, no NUL (C APIs, file names and logs would cut there).
    bool CheckText(string_view part, size_t total, error_code& ec) {
        if (total > limits_.max_string) {
            return Refuse(
                Path(), fmt::format("a string is longer than {} bytes", limits_.max_string), ec
            );
        }
        if (part.find('\0') != string_view::npos) {
            return Refuse(Path(), "a string holds a NUL character", ec);
        }
        return true;
    }
    std::string Path(std::string_view last_key = {}) const {
        std::string out;
        for (size_t i = 0; i < levels_.size(); ++i) {
            const Level& l = levels_[i];
            bool innermost = i + 1 == levels_.size();
            if (l.object) {
                std::string_view k =
                    innermost && !last_key.empty() ? last_key : std::string_view(l.key);
                if (!out.empty()) {
                    out += '.';
                }
                out += ToValidUtf8(k.substr(0, 128));
            } else {
                out += fmt::format("[{}]", l.index);
            }
        }
        return out.empty() ? std::string("(document)") : out;
    }
    bool Refuse(std::string path, std::string message, error_code& ec) {
        if (!error_) {
            error_ = FieldError(std::move(path), std::move(message));
        }
        ec = json::error::extra_data;  // any error stops the parser; ours is in error_
        return false;
    }

    JsonLimits limits_;
    json::value_stack st_;
    std::vector<Level> levels_;
    std::string key_;
    size_t elements_ = 0;
    std::optional<Error> error_;
};

}  // namespace

void SetJsonLimits(JsonLimits limits) {
    g_max_depth = limits.max_depth;
    g_max_elements = limits.max_elements;
    g_max_string = limits.max_string;
}

JsonLimits RequestJsonLimits() {
    return JsonLimits{g_max_depth.load(), g_max_elements.load(), g_max_string.load(), true};
}

JsonLimits LenientLimits() {
    return JsonLimits{
        1024, std::numeric_limits<size_t>::max(), std::numeric_limits<size_t>::max(), false};
}

Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits) {
    json::parse_options opts;
    opts.max_depth = limits.max_depth + 1;  // the builder refuses first, with a path
    json::basic_parser<StrictBuilder> p(opts, limits);
    boost::system::error_code ec;
    size_t n = p.write_some(false, text.data(), text.size(), ec);
    if (const auto& err = p.handler().error()) {
        return Fail(*err);
    }
    if (ec) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("malformed JSON at byte {}: {}", n, ec.message())
        );
    }
    if (n < text.size()) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("malformed JSON at byte {}: more text after the document", n)
        );
    }
    return p.handler().Release();
}

Result<json::value> ParseJson(std::string_view text) {
    return ParseJson(text, RequestJsonLimits());
}

Result<json::object> ParseJsonObject(std::string_view text, const JsonLimits& limits) {
    auto v = ParseJson(text, limits);
    if (!v) {
        return Fail(v.error());
    }
    if (!v->is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "request body must be a JSON object");
    }
    return std::move(v->as_object());
}

Result<json::object> ParseJsonObject(std::string_view text) {
    return ParseJsonObject(text, RequestJsonLimits());
}

namespace {

bool HasNonFinite(const json::value& v) {
    std::vector<const json::value*> todo{&v};  // explicit stack: stored documents may be deep
    while (!todo.empty()) {
        const json::value* cur = todo.back();
        todo.pop_back();
        if (cur->is_double() && !std::isfinite(cur->get_double())) {
            return true;
        }
        if (cur->is_object()) {
            for (const auto& kv : cur->get_object()) {
                todo.push_back(&kv.value());
            }
        } else if (cur->is_array()) {
            for (const auto& e : cur->get_array()) {
                todo.push_back(&e);
            }
        }
    }
    return false;
}

}  // namespace

std::optional<std::string> FindNonFinite(const json::value& v, std::string path) {
    if (!HasNonFinite(v)) {
        return std::nullopt;  // the common case pays for no path strings
    }
    if (v.is_double()) {
        return path.empty() ? std::string("(document)") : path;
    }
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            if (HasNonFinite(kv.value())) {
                return FindNonFinite(
                    kv.value(),
                    path.empty() ? std::string(kv.key())
                                 : fmt::format("{}.{}", path, std::string_view(kv.key()))
                );
            }
        }
    } else if (v.is_array()) {
        const auto& arr = v.get_array();
        for (size_t i = 0; i < arr.size(); ++i) {
            if (HasNonFinite(arr[i])) {
                return FindNonFinite(arr[i], fmt::format("{}[{}]", path, i));
            }
        }
    }
    return path;
}

std::optional<std::string> FindNonFinite(const json::object& o, std::string path) {
    for (const auto& kv : o) {
        if (HasNonFinite(kv.value())) {
            return FindNonFinite(
                kv.value(),
                path.empty() ? std::string(kv.key())
                             : fmt::format("{}.{}", path, std::string_view(kv.key()))
            );
        }
    }
    return std::nullopt;
}

std::string ToJson(const json::value& v) {
    return json::serialize(v);
}

std::string ToValidUtf8(std::string_view s) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xE0U) == 0xC0U) {
            len = 2;
            cp = c & 0x1FU;
        } else if ((c & 0xF0U) == 0xE0U) {
            len = 3;
            cp = c & 0x0FU;
        } else if ((c & 0xF8U) == 0xF0U) {
            len = 4;
            cp = c & 0x07U;
        }
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xC0U) == 0x80U;
            cp = (cp << 6U) | (cc & 0x3FU);
        }
        // Reject overlong forms, surrogates, out-of-range code points and control characters.
        static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
             !(cp < 0x20 && cp != '\t');
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out.append(kReplacement);
            i += 1;
        }
    }
    return out;
}

json::object ErrorToJson(const Error& e) {
    json::object err;
    err["code"] = CodeString(e.code);
    err["message"] = ToValidUtf8(e.message);
    json::object details;
    for (const auto& [k, v] : e.details) {
        details[ToValidUtf8(k)] = ToValidUtf8(v);
    }
    err["details"] = std::move(details);
    json::object out;
    out["error"] = std::move(err);
    return out;
}

Error FieldError(std::string path, std::string message) {
    Error e = MakeError(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, message));
    e.With("field", std::move(path));
    return e;
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::string StrAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t IntAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

bool BoolAt(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->as_bool();
}

std::string ObjectReader::PathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void ObjectReader::SetError(std::string field, std::string message) {
    if (!error_) {
        error_ = FieldError(std::move(field), std::move(message));
    }
}

void ObjectReader::Absorb(const Result<void>& nested) {
    if (!nested && !error_) {
        error_ = nested.error();
    }
}

void ObjectReader::TypeError(std::string_view key, std::string_view want) {
    SetError(PathOf(key), fmt::format("must be {}", want));
}

const json::value* ObjectReader::Find(std::string_view key, bool required, std::string_view type) {
    known_.emplace(key);
    const json::value* v = obj_.if_contains(key);
    if ((v == nullptr || v->is_null()) && required) {
        SetError(PathOf(key), fmt::format("is required ({})", type));
        return nullptr;
    }
    if (v != nullptr && v->is_null()) {
        return nullptr;
    }
    return v;
}

std::optional<std::string> ObjectReader::String(std::string_view key, bool required) {
    const json::value* v = Find(key, required, "a string");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        TypeError(key, "a string");
        return std::nullopt;
    }
    return std::string(v->as_string());
}

std::optional<int64_t> ObjectReader::Int(std::string_view key, bool required) {
    const json::value* v = Find(key, required, "an integer");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
        return static_cast<int64_t>(v->as_uint64());
    }
    TypeError(key, "an integer");
    return std::nullopt;
}

std::optional<bool> ObjectReader::Bool(std::string_view key, bool required) {
    const json::value* v = Find(key, required, "a boolean");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_bool()) {
        TypeError(key, "a boolean");
        return std::nullopt;
    }
    return v->as_bool();
}

const json::object* ObjectReader::Object(std::string_view key, bool required) {
    const json::value* v = Find(key, required, "an object");
    if (v == nullptr) {
        return nullptr;
    }
    if (!v->is_object()) {
        TypeError(key, "an object");
        return nullptr;
    }
    return &v->as_object();
}

const json::array* ObjectReader::Array(std::string_view key, bool required) {
    const json::value* v = Find(key, required, "an array");
    if (v == nullptr) {
        return nullptr;
    }
    if (!v->is_array()) {
        TypeError(key, "an array");
        return nullptr;
    }
    return &v->as_array();
}

std::optional<std::map<std::string, std::string>> ObjectReader::StringMap(std::string_view key) {
    const json::object* o = Object(key);
    if (o == nullptr) {
        return std::nullopt;
    }
    std::map<std::string, std::string> out;
    for (const auto& kv : *o) {
        if (!kv.value().is_string()) {
            SetError(
                fmt::format("{}.{}", PathOf(key), std::string_view(kv.key())), "must be a string"
            );
            return std::nullopt;
        }
        out.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
    }
    return out;
}

const json::value* ObjectReader::Any(std::string_view key) {
    known_.emplace(key);
    return obj_.if_contains(key);
}

Result<void> ObjectReader::Finish() {
    if (!error_) {
        for (const auto& kv : obj_) {
            if (!known_.contains(std::string_view(kv.key()))) {
                SetError(PathOf(kv.key()), "unknown field");
                break;
            }
        }
    }
    if (error_) {
        return Fail(*error_);
    }
    return {};
}

}  // namespace hangar::core
