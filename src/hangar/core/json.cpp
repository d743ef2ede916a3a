#include "hangar/core/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace hangar::core {

Result<json::value> ParseJson(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("malformed JSON: {}", ec.message()));
    }
    return v;
}

Result<json::object> ParseJsonObject(std::string_view text) {
    auto v = ParseJson(text);
    if (!v) {
        return Fail(v.error());
    }
    if (!v->is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "request body must be a JSON object");
    }
    return std::move(v->as_object());
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

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
            SetError(fmt::format("{}.{}", PathOf(key), std::string_view(kv.key())), "must be a string");
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
