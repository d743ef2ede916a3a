#include "hangar/marketplace/package.hpp"

#include <memory>

#include <fmt/format.h>
#include <zip.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::marketplace {

using core::ErrorCode;
using core::Fail;

namespace {

constexpr int64_t kMaxEntries = 5000;
constexpr size_t kMaxManifest = size_t{64} * 1024;
constexpr size_t kMaxIcon = size_t{512} * 1024;

core::Error Bad(std::string message) {
    return core::MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// At most `limit` bytes of entry `name`; nullopt when it is absent, an error when it is larger or
// unreadable.
core::Result<std::optional<std::string>>
ReadEntry(zip_t* z, const std::string& name, size_t limit) {
    zip_int64_t index = zip_name_locate(z, name.c_str(), 0);
    if (index < 0) {
        return std::optional<std::string>();
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(index), 0, &st) != 0) {
        return Fail(Bad(fmt::format("the package's entry {} cannot be read", name)));
    }
    if ((st.valid & ZIP_STAT_SIZE) != 0 && st.size > limit) {
        return Fail(Bad(fmt::format("{} is larger than {} bytes", name, limit)));
    }
    std::unique_ptr<zip_file_t, FileCloser> f(
        zip_fopen_index(z, static_cast<zip_uint64_t>(index), 0)
    );
    if (!f) {
        return Fail(Bad(fmt::format(
            "{} cannot be decompressed (an encrypted entry or an unknown compression method)", name
        )));
    }
    std::string out;
    out.resize(limit + 1);
    size_t got = 0;
    while (got < out.size()) {
        zip_int64_t n = zip_fread(f.get(), out.data() + got, out.size() - got);
        if (n < 0) {
            return Fail(Bad(fmt::format("{} is corrupt in the package", name)));
        }
        if (n == 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    if (got > limit) {  // the declared size lied: stop at the limit
        return Fail(Bad(fmt::format("{} is larger than {} bytes", name, limit)));
    }
    out.resize(got);
    return std::optional<std::string>(std::move(out));
}

bool IsUuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : std::isxdigit(static_cast<unsigned char>(s[i])) == 0) {
            return false;
        }
    }
    return true;
}

std::string Slugify(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else if (!out.empty() && out.back() != '-') {
            out.push_back('-');
        }
    }
    while (!out.empty() && out.back() == '-') {
        out.pop_back();
    }
    return out.substr(0, 100);
}

}  // namespace

std::optional<Version> ParseVersion(std::string_view s) {
    if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
        s.remove_prefix(1);
    }
    Version v;
    int64_t* parts[] = {&v.major, &v.minor, &v.patch};
    size_t i = 0;
    for (int k = 0; k < 3; ++k) {
        size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0 && i - start < 9
        ) {
            *parts[k] = *parts[k] * 10 + (s[i] - '0');
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        if (i == s.size() || s[i] == '-' || s[i] == '+') {
            break;
        }
        if (s[i] != '.' || k == 2) {
            return std::nullopt;
        }
        ++i;
    }
    if (i < s.size() && s[i] != '-' && s[i] != '+') {
        return std::nullopt;
    }
    return v;
}

bool EngineSatisfies(const Version& engine, std::string_view required) {
    bool tilde = false;
    if (required.starts_with(">=")) {
        auto r = ParseVersion(required.substr(2));
        return r && engine >= *r;
    }
    if (required.starts_with('^')) {
        required.remove_prefix(1);
    } else if (required.starts_with('~')) {
        required.remove_prefix(1);
        tilde = true;
    }
    auto r = ParseVersion(required);
    if (!r) {
        return false;
    }
    if (engine.major != r->major || (tilde && engine.minor != r->minor)) {
        return false;
    }
    return engine >= *r;
}

core::Result<AppPackage> ReadAppPackage(std::string_view bytes) {
    if (bytes.size() > kMaxPackageBytes) {
        return Fail(Bad(fmt::format("the package is larger than {} MiB", kMaxPackageBytes >> 20)));
    }
    if (bytes.size() < 22 || bytes.substr(0, 2) != "PK") {
        return Fail(Bad("the package is not a zip file"));
    }
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (src == nullptr) {
        zip_error_fini(&error);
        return Fail(Bad("the package cannot be read"));
    }
    std::unique_ptr<zip_t, ZipCloser> z(
        zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error)
    );
    if (!z) {
        zip_source_free(src);
        std::string why = zip_error_strerror(&error);
        zip_error_fini(&error);
        return Fail(Bad("the package is not a valid zip file: " + why));
    }
    zip_error_fini(&error);
    zip_int64_t entries = zip_get_num_entries(z.get(), 0);
    if (entries < 0 || entries > kMaxEntries) {
        return Fail(Bad(fmt::format("the package holds more than {} files", kMaxEntries)));
    }
    auto manifest_text = ReadEntry(z.get(), "app.json", kMaxManifest);
    if (!manifest_text) {
        return Fail(manifest_text.error());
    }
    if (!*manifest_text) {
        return Fail(Bad("the package has no app.json at its root"));
    }
    auto parsed = core::ParseJsonObject(**manifest_text);
    if (!parsed) {
        return Fail(Bad("app.json is not a JSON object: " + parsed.error().message));
    }
    const json::object& m = *parsed;
    AppPackage p;
    p.manifest = m;
    auto str = [&](std::string_view key, bool required, size_t max) -> std::optional<std::string> {
        const json::value* v = m.if_contains(key);
        if (v == nullptr) {
            return required ? std::nullopt : std::optional<std::string>("");
        }
        if (!v->is_string() || v->as_string().size() > max) {
            return std::nullopt;
        }
        return std::string(v->as_string());
    };
    struct Field {
        const char* key;
        bool required;
        size_t max;
        std::string* out;
        const char* what;
    };
    const Field fields[] = {
        {"id", true, 36, &p.id, "a UUID"},
        {"name", true, 100, &p.name, "a name of 1-100 characters"},
        {"nameSlug", false, 100, &p.name_slug, "a slug of at most 100 characters"},
        {"version", true, 64, &p.version, "a version such as 1.2.0"},
        {"requiredApiVersion", true, 64, &p.required_api_version, "a range such as ^1.19.0"},
        {"description", false, 4000, &p.description, "text of at most 4000 characters"},
        {"classFile", true, 256, &p.class_file, "the main file's name"},
    };
    for (const auto& f : fields) {
        auto v = str(f.key, f.required, f.max);
        if (!v || (f.required && v->empty())) {
            return Fail(core::FieldError(
                fmt::format("app.json: {}", f.key), fmt::format("must be {}", f.what)
            ));
        }
        *f.out = std::move(*v);
    }
    if (!IsUuid(p.id)) {
        return Fail(core::FieldError("app.json: id", "must be a UUID"));
    }
    if (!ParseVersion(p.version)) {
        return Fail(core::FieldError("app.json: version", "must be a version such as 1.2.0"));
    }
    std::string_view req = p.required_api_version;
    for (std::string_view prefix : {">=", "^", "~"}) {
        if (req.starts_with(prefix)) {
            req.remove_prefix(prefix.size());
            break;
        }
    }
    if (!ParseVersion(req)) {
        return Fail(
            core::FieldError("app.json: requiredApiVersion", "must be a range such as ^1.19.0")
        );
    }
    if (p.name_slug.empty()) {
        p.name_slug = Slugify(p.name);
    }
    const json::value* author = m.if_contains("author");
    if (author == nullptr || !author->is_object() ||
        core::StrAt(author->as_object(), "name").empty()) {
        return Fail(core::FieldError("app.json: author", "must be {name, homepage, support}"));
    }
    for (auto key : {"name", "homepage", "support"}) {
        p.author[key] = core::StrAt(author->as_object(), key).substr(0, 256);
    }
    for (auto [key, out] :
         {std::pair{"permissions", &p.permissions}, std::pair{"implements", &p.implements}}) {
        if (const json::value* v = m.if_contains(key)) {
            if (!v->is_array() || v->as_array().size() > 200) {
                return Fail(core::FieldError(
                    fmt::format("app.json: {}", key), "must be a list of at most 200"
                ));
            }
            *out = v->as_array();
        }
    }
    for (const auto& perm : p.permissions) {
        if (!perm.is_object() || core::StrAt(perm.as_object(), "name").empty()) {
            return Fail(core::FieldError("app.json: permissions", "each must be {name, ...}"));
        }
    }
    if (std::string icon = core::StrAt(m, "iconFile"); !icon.empty()) {
        auto data = ReadEntry(z.get(), icon, kMaxIcon);
        if (!data) {
            return Fail(data.error());
        }
        if (*data) {
            std::string type = icon.ends_with(".svg")   ? "image/svg+xml"
                               : icon.ends_with(".jpg") ? "image/jpeg"
                                                        : "image/png";
            std::string b64;
            // Standard base64 for a data URL.
            static constexpr char kAlphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            const std::string& in = **data;
            for (size_t i = 0; i < in.size(); i += 3) {
                uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16U;
                if (i + 1 < in.size()) {
                    n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8U;
                }
                if (i + 2 < in.size()) {
                    n |= static_cast<unsigned char>(in[i + 2]);
                }
                b64 += kAlphabet[(n >> 18U) & 63U];
                b64 += kAlphabet[(n >> 12U) & 63U];
                b64 += i + 1 < in.size() ? kAlphabet[(n >> 6U) & 63U] : '=';
                b64 += i + 2 < in.size() ? kAlphabet[n & 63U] : '=';
            }
            p.icon_data = "data:" + type + ";base64," + b64;
        }
    }
    return p;
}

}  // namespace hangar::marketplace
