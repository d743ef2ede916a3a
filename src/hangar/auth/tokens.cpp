#include "hangar/auth/tokens.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/strings.hpp"

namespace hangar::auth {

using core::ErrorCode;
using core::Fail;

namespace {
constexpr auto kCacheTtl = std::chrono::seconds(5);
constexpr size_t kCacheMax = 100000;
}  // namespace

namespace {

// The secret from "Bearer <secret>", or an error that says what is wrong with the header.
core::Result<std::string_view> BearerSecret(std::string_view authorization) {
    if (authorization.empty()) {
        return Fail(
            ErrorCode::kUnauthenticated,
            "missing Authorization header; send \"Authorization: Bearer <token>\""
        );
    }
    std::string_view secret = core::BearerCredential(authorization);
    if (secret.empty()) {
        return Fail(ErrorCode::kUnauthenticated, "Authorization must be \"Bearer <token>\"");
    }
    if (secret.size() > 256) {
        return Fail(ErrorCode::kUnauthenticated, "invalid token");
    }
    return secret;
}

}  // namespace

core::Result<Principal> TokenService::Check(const store::Token& token) const {
    if (!token.revoked_at.empty()) {
        return Fail(ErrorCode::kUnauthenticated, "token has been revoked");
    }
    if (!token.expires_at.empty()) {
        auto exp = core::ParseRfc3339(token.expires_at);
        if (!exp || *exp <= clock_.Now()) {
            return Fail(ErrorCode::kUnauthenticated, "token has expired");
        }
    }
    auto role = ParseRole(token.role);
    if (!role) {
        return Fail(ErrorCode::kUnauthenticated, "token has an unknown role");
    }
    return Principal{token.id, token.tenant, *role, token.user_id};
}

std::optional<Principal> TokenService::AuthenticateCached(std::string_view authorization) {
    auto secret = BearerSecret(authorization);
    if (!secret) {
        return std::nullopt;
    }
    std::string hash = core::Sha256Hex(*secret);
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it == cache_.end() || std::chrono::steady_clock::now() - it->second.fetched >= kCacheTtl) {
        return std::nullopt;
    }
    auto p = Check(it->second.token);
    return p ? std::optional<Principal>(*p) : std::nullopt;
}

core::Result<Principal> TokenService::Authenticate(std::string_view authorization) {
    auto secret = BearerSecret(authorization);
    if (!secret) {
        return Fail(secret.error());
    }
    std::string hash = core::Sha256Hex(*secret);
    std::optional<store::Token> token;
    auto now_steady = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mu_);
        auto it = cache_.find(hash);
        if (it != cache_.end() && now_steady - it->second.fetched < kCacheTtl) {
            token = it->second.token;
        }
    }
    if (!token) {
        auto found = store_.TokenByHash(hash);
        if (!found) {
            return Fail(found.error());
        }
        if (!*found) {
            return Fail(ErrorCode::kUnauthenticated, "invalid token");
        }
        token = **found;
        std::lock_guard lock(mu_);
        if (cache_.size() >= kCacheMax) {
            cache_.clear();
        }
        cache_[hash] = Cached{*token, now_steady};
    }
    return Check(*token);
}

core::Result<NewToken> TokenService::Create(
    const Principal& by,
    std::string tenant,
    Role role,
    std::string name,
    std::string user_id,
    std::optional<core::TimePoint> expires_at,
    store::AuditEvent audit
) {
    NewToken out;
    out.secret = core::NewSecretToken();
    store::Token& t = out.token;
    t.id = core::NewId("tok");
    t.hash = core::Sha256Hex(out.secret);
    t.tenant = std::move(tenant);
    t.role = std::string(RoleName(role));
    t.name = std::move(name);
    t.user_id = std::move(user_id);
    t.created_at = core::FormatRfc3339(clock_.Now());
    t.expires_at = expires_at ? core::FormatRfc3339(*expires_at) : "";
    t.created_by = by.token_id.empty() ? "system" : by.token_id;
    audit.object = t.id;
    auto r = store_.CreateToken(t, std::move(audit));
    if (!r) {
        return Fail(r.error());
    }
    return out;
}

core::Result<std::string>
TokenService::Bootstrap(const std::string& secret, const std::string& path) {
    auto now = core::FormatRfc3339(clock_.Now());
    store::AuditEvent audit{0, now, "system", "", "token.bootstrap", "", "", "local", ""};
    if (!secret.empty()) {
        auto found = store_.TokenByHash(core::Sha256Hex(secret));
        if (!found) {
            return Fail(found.error());
        }
        if (*found) {
            return std::string("admin token from HANGAR_BOOTSTRAP_TOKEN is registered");
        }
        store::Token t;
        t.id = core::NewId("tok");
        t.hash = core::Sha256Hex(secret);
        t.role = "admin";
        t.name = "bootstrap";
        t.created_at = now;
        t.created_by = "system";
        audit.object = t.id;
        if (auto r = store_.CreateToken(t, audit); !r) {
            return Fail(r.error());
        }
        return std::string("registered the admin token from HANGAR_BOOTSTRAP_TOKEN");
    }
    auto all = store_.ListTokens(std::optional<std::string>(""));
    if (!all) {
        return Fail(all.error());
    }
    for (const auto& t : *all) {
        if (t.role == "admin" && t.revoked_at.empty()) {
            return fmt::format(
                "an admin token exists; its secret was written to {} on first start", path
            );
        }
    }
    Principal system;
    auto created = Create(system, "", Role::kAdmin, "bootstrap", "", std::nullopt, audit);
    if (!created) {
        return Fail(created.error());
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return Fail(ErrorCode::kInternal, fmt::format("cannot write {}", path));
    }
    std::string line = created->secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::fchmod(fd, 0600);
    ::close(fd);
    if (!ok) {
        return Fail(ErrorCode::kInternal, fmt::format("cannot write {}", path));
    }
    return fmt::format("created an admin token; its secret is in {} (mode 0600)", path);
}

void TokenService::Forget(const std::string& hash) {
    std::lock_guard lock(mu_);
    cache_.erase(hash);
}

void TokenService::ForgetAll() {
    std::lock_guard lock(mu_);
    cache_.clear();
}

}  // namespace hangar::auth
