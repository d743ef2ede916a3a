#pragma once
// API tokens: random secrets shown once, stored as SHA-256 hashes, with a role, a tenant, an
// optional expiry, revocable. Authentication keeps a short cache (a few seconds) in front of the
// store; a revocation made through this process clears it at once, one made on another replica
// takes effect within the cache's lifetime.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "hangar/auth/principal.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::auth {

struct NewToken {
    store::Token token;
    std::string secret;  // the only time it exists in clear
};

class TokenService {
public:
    TokenService(store::Store& store, const core::Clock& clock) : store_(store), clock_(clock) {}

    // From an "Authorization" header value.
    core::Result<Principal> Authenticate(std::string_view authorization);
    // Never blocks: the principal when the token is in the cache and valid, else nullopt (the
    // caller then takes the full path, which also produces the right error).
    std::optional<Principal> AuthenticateCached(std::string_view authorization);
    core::Result<NewToken> Create(
        const Principal& by,
        std::string tenant,
        Role role,
        std::string name,
        std::string user_id,
        std::optional<core::TimePoint> expires_at,
        store::AuditEvent audit
    );
    // Makes sure the platform has an admin token: the given secret, or a new one written to
    // `path` (mode 0600). Returns a message for the log.
    core::Result<std::string> Bootstrap(const std::string& secret, const std::string& path);
    void Forget(const std::string& hash);
    void ForgetAll();

private:
    core::Result<Principal> Check(const store::Token& token) const;
    struct Cached {
        store::Token token;
        std::chrono::steady_clock::time_point fetched;
    };
    store::Store& store_;
    const core::Clock& clock_;
    std::mutex mu_;
    std::unordered_map<std::string, Cached> cache_;
};

}  // namespace hangar::auth
