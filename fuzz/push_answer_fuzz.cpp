// Push providers' answers: hangar::edge::ApnsOutcome, FcmOutcome and ReadOAuthGrant. The answer
// is APNs' or FCM's, or whatever answers at the URL a tenant gave its push app.
// Input: "STATUS RETRY-AFTER APNS-ID\nBODY" (the first line's fields may be missing or junk).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/edge/push_providers.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);
    size_t nl = text.find('\n');
    std::string_view head = text.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    hangar::edge::H2Response r;
    size_t sp = head.find(' ');
    std::string_view status = head.substr(0, sp);
    (void)std::from_chars(status.data(), status.data() + status.size(), r.status);
    if (sp != std::string_view::npos) {
        std::string_view rest = head.substr(sp + 1);
        size_t sp2 = rest.find(' ');
        r.headers.emplace_back("retry-after", std::string(rest.substr(0, sp2)));
        if (sp2 != std::string_view::npos) {
            r.headers.emplace_back("apns-id", std::string(rest.substr(sp2 + 1)));
        }
    }
    r.body = std::string(body);
    if (r.status == 0) {
        r.error = "no answer";
    }
    bool refused = false;
    auto apns = hangar::edge::ApnsOutcome(r, refused);
    auto fcm = hangar::edge::FcmOutcome(r);
    (void)apns.retry_after.count();
    (void)fcm.reason.size();
    if (auto grant = hangar::edge::ReadOAuthGrant(body)) {
        (void)grant->access_token.size();
    }
    return 0;
}
