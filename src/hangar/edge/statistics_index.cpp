#include "hangar/edge/statistics_index.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>

namespace hangar::edge {

namespace {

namespace json = boost::json;
using boost::system::error_code;

struct Field {
    std::string_view from, to;
    size_t limit;  // strings: bytes kept
};
constexpr Field kTopStrings[] = {
    {"uniqueId", "unique_id", 256},
    {"version", "version", 256},
    {"installedAt", "installed_at", 256},
    {"host", "host", 256}};
constexpr Field kTopNumbers[] = {
    {"totalUsers", "total_users", 0},
    {"activeUsers", "active_users", 0},
    {"totalMessages", "total_messages", 0},
    {"push", "push", 0},
    {"pushQueue", "push_queue", 0}};
constexpr Field kDeployStrings[] = {
    {"method", "deploy_method", 64},
    {"platform", "deploy_platform", 64}};

template <size_t N>
const Field* Lookup(const Field (&fields)[N], std::string_view key) {
    for (const Field& f : fields) {
        if (f.from == key) {
            return &f;
        }
    }
    return nullptr;
}

// basic_parser's handler: depth 1 is the document's own object; depth 2 inside "deploy" is the
// deploy object. Strings and keys may come in parts; they are gathered in `text_`.
class Indexer {
public:
    static constexpr size_t max_object_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_array_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_key_size = std::numeric_limits<size_t>::max();
    static constexpr size_t max_string_size = std::numeric_limits<size_t>::max();

    json::object out;
    bool root_is_object = false;
    bool non_finite = false;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) {
        ++depth_;
        return true;
    }
    bool on_array_end(size_t, error_code&) {
        --depth_;
        return true;
    }
    bool on_object_begin(error_code&) {
        if (depth_ == 0) {
            root_is_object = true;
        }
        if (depth_ == 1) {
            in_deploy_ = key_ == "deploy";
        }
        ++depth_;
        return true;
    }
    bool on_object_end(size_t, error_code&) {
        --depth_;
        if (depth_ == 1) {
            in_deploy_ = false;
        }
        return true;
    }
    bool on_key_part(json::string_view s, size_t, error_code&) {
        text_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, size_t, error_code&) {
        text_.append(s.data(), s.size());
        if (depth_ == 1) {
            key_ = std::move(text_);
        } else if (depth_ == 2 && in_deploy_) {
            deploy_key_ = std::move(text_);
        }
        text_.clear();
        return true;
    }
    bool on_string_part(json::string_view s, size_t, error_code&) {
        if (Wanted() != nullptr) {
            text_.append(s.data(), s.size());
        }
        return true;
    }
    bool on_string(json::string_view s, size_t, error_code&) {
        if (const Field* f = Wanted(); f != nullptr && IsStringField(f)) {
            text_.append(s.data(), s.size());
            out[f->to] = std::string_view(text_).substr(0, f->limit);
        }
        text_.clear();
        return true;
    }
    bool on_number_part(json::string_view, error_code&) { return true; }
    bool on_int64(int64_t v, json::string_view, error_code&) {
        return Number(static_cast<double>(v), v);
    }
    bool on_uint64(uint64_t v, json::string_view, error_code&) {
        return Number(static_cast<double>(v), std::nullopt);
    }
    bool on_double(double v, json::string_view, error_code& ec) {
        if (!std::isfinite(v)) {  // 1e999: no reader downstream could hold it
            non_finite = true;
            ec = json::error::exponent_overflow;
            return false;
        }
        return Number(v, std::nullopt);
    }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }

private:
    // The field the value now being read fills, if any.
    const Field* Wanted() const {
        if (depth_ == 1) {
            if (const Field* f = Lookup(kTopStrings, key_)) {
                return f;
            }
            return Lookup(kTopNumbers, key_);
        }
        if (depth_ == 2 && in_deploy_) {
            return Lookup(kDeployStrings, deploy_key_);
        }
        return nullptr;
    }
    static bool IsStringField(const Field* f) { return f->limit > 0; }
    bool Number(double v, std::optional<int64_t> exact) {
        const Field* f = Wanted();
        if (f == nullptr || IsStringField(f)) {
            return true;
        }
        if (exact) {
            out[f->to] = *exact;
        } else if (std::isfinite(v) && v >= -9.2e18 && v <= 9.2e18) {  // inside int64: the cast is
                                                                       // defined
            out[f->to] = static_cast<int64_t>(v);
        }
        return true;
    }

    int depth_ = 0;
    bool in_deploy_ = false;
    std::string key_, deploy_key_, text_;
};

}  // namespace

core::Result<json::object> IndexStatistics(std::string_view text) {
    json::basic_parser<Indexer> p(json::parse_options{});
    error_code ec;
    size_t n = p.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) {
        ec = json::error::extra_data;
    }
    if (p.handler().non_finite) {
        return core::Fail(
            core::ErrorCode::kInvalidArgument,
            fmt::format("a number at byte {} is too large for a double", n)
        );
    }
    if (ec) {
        return core::Fail(core::ErrorCode::kInvalidArgument, ec.message());
    }
    if (!p.handler().root_is_object) {
        return core::Fail(core::ErrorCode::kInvalidArgument, "it is not an object");
    }
    return std::move(p.handler().out);
}

}  // namespace hangar::edge
