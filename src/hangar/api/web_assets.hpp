#pragma once
// The dashboard's static files, built into the binary from web/ and the npm libraries it
// imports (cmake/embed_web.cmake).

#include <span>
#include <string_view>

namespace hangar::api {

struct WebAsset {
    std::string_view name;  // as served under /ui/ ("index.html" is also "/")
    std::string_view body;
    std::string_view etag;  // quoted, from the file's SHA-256
};

std::span<const WebAsset> WebAssets();

}  // namespace hangar::api
