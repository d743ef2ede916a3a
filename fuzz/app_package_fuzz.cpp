// The marketplace's package reader (hangar::marketplace::ReadAppPackage) on arbitrary bytes as a
// zip, the announcement spec and interaction readers and the engine-version parsing on them as
// text, and the app-request page's requester and admins (base64 JSON) on its first two lines. The
// corpus holds real packages (stored and deflated, with an icon) and broken ones.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/core/json.hpp"
#include "hangar/edge/announcements.hpp"
#include "hangar/marketplace/package.hpp"
#include "hangar/marketplace/requests.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view bytes = hangar::fuzz::AsText(data, size);
    if (auto p = hangar::marketplace::ReadAppPackage(bytes)) {
        (void)hangar::marketplace::ParseVersion(p->version);
        (void)hangar::marketplace::EngineSatisfies({1, 45, 0}, p->required_api_version);
    }
    for (std::string_view line : hangar::fuzz::Lines(bytes, 8)) {
        if (auto v = hangar::marketplace::ParseVersion(line)) {
            (void)hangar::marketplace::EngineSatisfies(*v, line);
        }
        (void)hangar::edge::CompareVersions(line, "6.10.2");
    }
    {
        auto lines = hangar::fuzz::Lines(bytes, 2);
        hangar::marketplace::RequestForm form;
        form.requester = lines.empty() ? "" : std::string(lines[0]);
        form.admins = lines.size() < 2 ? "" : std::string(lines[1]);
        (void)hangar::marketplace::ReadRequestPeople(form);
    }
    if (auto o = hangar::core::ParseJsonObject(bytes)) {
        (void)hangar::edge::ValidateAnnouncementSpec(*o);
        (void)hangar::edge::ReadInteraction(*o);
    }
    return 0;
}
