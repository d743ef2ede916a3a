#pragma once
// An Apps-Engine package (the .zip a Rocket.Chat app ships as): its app.json read strictly, with
// the zip's bounds checked before anything is inflated. Only app.json and the icon it names are
// ever decompressed, each read no further than its limit (a zip's declared sizes are not
// trusted), so a zip bomb costs nothing.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::marketplace {

namespace json = boost::json;

constexpr size_t kMaxPackageBytes = size_t{50} * 1024 * 1024;

struct AppPackage {
    std::string id;  // a UUID: the app's identity across versions
    std::string name, name_slug, version, required_api_version, description, class_file;
    json::object author;      // {name, homepage, support}
    json::array permissions;  // [{name, ...}]
    json::array implements;
    std::string icon_data;  // "data:image/png;base64,..." when the icon is in the package
    json::object manifest;  // app.json as given
};

// Errors are kInvalidArgument naming what is wrong ("app.json: version ...").
core::Result<AppPackage> ReadAppPackage(std::string_view zip);

// "1.45.0", "1.45.0-alpha.3" or "v1.45": (major, minor, patch), missing parts 0; nullopt when it
// is not a version.
struct Version {
    int64_t major = 0, minor = 0, patch = 0;
    auto operator<=>(const Version&) const = default;
};
std::optional<Version> ParseVersion(std::string_view s);
// Whether an engine of version `engine` runs an app that requires `required` ("^1.19.0",
// "~1.19.0", ">=1.19.0" or "1.19.0": caret and bare mean the same major, at least this).
bool EngineSatisfies(const Version& engine, std::string_view required);

}  // namespace hangar::marketplace
