// Request JSON: hangar::core::ParseJson / ParseJsonObject (strict request limits and the
// lenient limits stored documents are read with), the ObjectReader accessors every spec
// validator is built from, FindNonFinite, ToJson and ToValidUtf8 / ErrorToJson.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/core/json.hpp"

#include "fuzz_support.hpp"

namespace {

namespace core = hangar::core;
namespace json = boost::json;

// Reads `obj` the way a validator does: a few fixed fields, then every key with an accessor
// picked by its position (so the wrong type is asked for as often as the right one), nested
// objects through their own readers, and Finish to reject what nobody asked for.
void ReadLikeAValidator(const json::object& obj, const std::string& path, int depth) {
    core::ObjectReader r(obj, path);
    (void)r.String("name");
    (void)r.Int("count");
    (void)r.Bool("enabled");
    (void)r.StringMap("labels");
    (void)r.Array("items");
    size_t i = 0;
    for (const auto& kv : obj) {
        if (i++ >= 64) {
            break;
        }
        std::string_view key = kv.key();
        switch (i % 7) {
            case 0:
                (void)r.String(key, true);
                break;
            case 1:
                (void)r.Int(key);
                break;
            case 2:
                (void)r.Bool(key, true);
                break;
            case 3:
                (void)r.StringMap(key);
                break;
            case 4:
                (void)r.Array(key, true);
                break;
            case 5:
                (void)r.Any(key);
                break;
            default:
                if (const json::object* nested = r.Object(key); nested != nullptr && depth < 8) {
                    core::ObjectReader inner(*nested, r.PathOf(key));
                    (void)inner.String("name", true);
                    r.Absorb(inner.Finish());
                    ReadLikeAValidator(*nested, r.PathOf(key), depth + 1);
                }
                break;
        }
        (void)r.ok();
    }
    if (auto f = r.Finish(); !f) {
        (void)core::ToJson(core::ErrorToJson(f.error()));
    }
    (void)core::StrAt(obj, "name");
    (void)core::IntAt(obj, "count");
    (void)core::BoolAt(obj, "enabled");
    (void)core::ObjectAt(obj, "metadata");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);

    (void)core::ToValidUtf8(text);

    auto v = core::ParseJson(text);
    if (v) {
        (void)core::FindNonFinite(*v);
        std::string again = core::ToJson(*v);
        (void)core::ParseJson(again);  // what Hangar writes it must read back
    } else {
        (void)core::ToJson(core::ErrorToJson(v.error()));
    }

    auto lenient = core::ParseJson(text, core::LenientLimits());
    if (lenient) {
        (void)core::FindNonFinite(*lenient);
    }

    auto obj = core::ParseJsonObject(text);
    if (obj) {
        (void)core::FindNonFinite(*obj);
        ReadLikeAValidator(*obj, "spec", 0);
    }
    return 0;
}
