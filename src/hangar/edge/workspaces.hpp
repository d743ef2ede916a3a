#pragma once
// Workspaces: the clients of the cloud services (a managed instance or a self-hosted server),
// per protocols/workspace-cloud.md. Registration (a one-time token, or the device-code flow an
// operator approves), OAuth2 client credentials with scopes, and sync, which records what the
// workspace says about itself and answers with license data signed by the cloud's Ed25519 key.
//
// Access tokens are stateless: "hwa_<payload>.<hmac>" carries the workspace, its scopes, its
// expiry and the workspace's token epoch, so checking one needs no store read beyond the cached
// workspace document. Client secrets are stored as SHA-256 hashes.

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/auth/principal.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/core/rate_limit.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/store/store.hpp"

namespace hangar::edge {

namespace json = boost::json;

// The scopes a workspace may hold, as bits.
enum ScopeBit : uint32_t {
    kLicenseRead = 1U << 0U,
    kClientWrite = 1U << 1U,
    kStatsWrite = 1U << 2U,
    kPushSend = 1U << 3U,
    kMarketplaceRead = 1U << 4U,
    kMarketplaceDownload = 1U << 5U,
    kMarketplacePurchase = 1U << 6U,
    kFedhubRegister = 1U << 7U,    // asked for by every stock server; Hangar has no federation
                                   // hub, so holding it grants nothing
    kWorkspaceBilling = 1U << 8U,  // the checkout call
};
constexpr uint32_t kAllScopes = (1U << 9U) - 1;
// Granted whatever a workspace's scope list says: they give access to nothing of another's.
constexpr uint32_t kHarmlessScopes = kFedhubRegister;
// "workspace:push:send" → kPushSend; 0 when unknown.
uint32_t ScopeFromName(std::string_view name);
std::string ScopeString(uint32_t bits);

// An answer in the contract's shape: a status and {"error": code, "error_description": text}.
struct EdgeError {
    int status = 400;
    std::string error;
    std::string description;
};
template <typename T>
using EdgeResult = std::expected<T, EdgeError>;
inline std::unexpected<EdgeError>
EdgeFail(int status, std::string error, std::string description = {}) {
    return std::unexpected(EdgeError{status, std::move(error), std::move(description)});
}
// The store could not do it: 503 when it is busy, else 500.
EdgeError StoreTrouble(const core::Error& e);

struct WorkspaceOptions {
    std::string base_url = "http://127.0.0.1:8080";  // how workspaces reach this server
    std::chrono::seconds access_token_ttl{3600};
    std::chrono::seconds secret_ttl{90LL * 24 * 3600};
    std::chrono::seconds registration_token_ttl{24 * 3600};
    std::chrono::seconds intent_ttl{15 * 60};
    std::chrono::seconds rotation_grace{24 * 3600};  // the previous secret keeps working this long
    int poll_interval = 5;                           // seconds, told to device-flow clients
};

// Form or query fields, decoded, in order.
using OAuthForm = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string> FormField(const OAuthForm& form, std::string_view key);

// What the authorize page answers: a page (status, HTML) or a redirect (303, Location).
struct UserAuthorizeAnswer {
    int status = 200;
    std::string html;
    std::string location;
};

// A checked access token.
struct WorkspaceAuth {
    std::string workspace_id, tenant;
    uint32_t scopes = 0;
    int64_t expires_unix = 0;
};

// The Workspace kind's spec, read strictly.
core::Result<json::object> ValidateWorkspaceSpec(const json::object& spec);
// A Product's "workspace" block ({scopes?}): its instances each get a Workspace.
core::Result<json::object> ValidateProductWorkspace(const json::object& block);

class Workspaces {
public:
    Workspaces(
        store::Store& store,
        const CloudKeys& keys,
        const core::Clock& clock,
        WorkspaceOptions opts
    );

    // Once the listener is bound (its port may have been 0), when no public URL was configured.
    void SetBaseUrl(std::string url) { opts_.base_url = std::move(url); }
    const WorkspaceOptions& options() const { return opts_; }
    // A user code is 8 letters: guessing must be slow. Each approve or reject by `caller`
    // (a token) takes one of 10 tries, refilled one every 6 s; past them, 429 with Retry-After.
    core::Result<void> ThrottleCodeGuess(const std::string& caller);

    // ---- the operator's side (Hangar API)
    // A one-time registration token for workspace `id`: {"token", "expires_at", "workspace"}.
    core::Result<json::object> IssueRegistrationToken(
        const std::string& id,
        std::chrono::seconds ttl,
        store::AuditEvent audit
    );
    // The registration token a managed instance is started with: derived from the master key
    // and the workspace, so every call (and every restart of the instance) gives the same one;
    // armed in the workspace's status while the workspace is unregistered, and used once.
    core::Result<std::string> InstanceRegistrationToken(const store::Object& ws);
    // A new client secret; the previous one keeps working for `rotation_grace`.
    core::Result<json::object> RotateSecret(const std::string& id, store::AuditEvent audit);
    // Approves a device-flow intent by its user code: creates the workspace in `tenant`.
    core::Result<store::Object> Approve(
        std::string_view user_code,
        const std::string& tenant,
        std::string name,
        store::AuditEvent audit
    );
    core::Result<void> Reject(std::string_view user_code, store::AuditEvent audit);
    // Pending device-flow intents (platform admins review them).
    core::Result<json::array> PendingIntents();

    // ---- the workspace's side (the contract)
    EdgeResult<json::object> RegisterClient(
        std::string_view authorization,
        std::string_view body,
        const std::string& remote
    );
    EdgeResult<json::object> Intent(std::string_view body);
    EdgeResult<json::object> Poll(std::string_view device_code);
    // POST /api/oauth/token, fields already decoded (the body's and the query string's: a stock
    // server sends the authorization-code and refresh grants in the query string).
    EdgeResult<json::object> Token(const OAuthForm& form);
    // ---- "connect my account" (user_oauth.cpp): a Hangar user links their account to a
    // workspace with the authorization-code grant (scopes openid offline_access).
    // GET /authorize: the consent page (HTML), or an error page when the request is bad.
    UserAuthorizeAnswer AuthorizePage(const OAuthForm& query);
    // POST /authorize: the user's decision, with the Hangar token they signed in with (`who`,
    // nullopt when it did not check out): a redirect to the workspace's callback with a code.
    UserAuthorizeAnswer
    AuthorizeDecision(const OAuthForm& form, const std::optional<auth::Principal>& who);
    // POST /api/v2/checkout (scope workspace:billing): {"url"} of a signed page, valid an hour,
    // that says what the workspace's plan costs (checkout.cpp).
    EdgeResult<json::object> Checkout(const WorkspaceAuth& who, std::string_view body);
    UserAuthorizeAnswer CheckoutPage(std::string_view id, const OAuthForm& query);
    // POST /api/v2/register/workspace (legacy start): {"id"}; POST .../pre-intent: {}.
    EdgeResult<json::object> LegacyStart(std::string_view body);
    EdgeResult<json::object> PreIntent(std::string_view body);
    // POST /api/oauth/revoke (RFC 7009): ends a user's link; 200 whatever the token was.
    EdgeResult<json::object> Revoke(const OAuthForm& form);
    // GET /api/oauth/userinfo with a user access token: {sub, name, email, tenant}.
    EdgeResult<json::object> UserInfo(std::string_view authorization);
    // A bearer access token that holds `need` (a ScopeBit; 0: any valid token). With
    // `may_block` false it answers only from memory, and fails with status 0 when it cannot.
    EdgeResult<WorkspaceAuth>
    Authenticate(std::string_view authorization, uint32_t need, bool may_block = true) const;
    EdgeResult<json::object>
    Sync(const WorkspaceAuth& who, std::string_view id, std::string_view body);

    // POST /api/v3/comms/workspace: the announcements for this workspace (announcements.hpp).
    EdgeResult<json::object> Comms(const WorkspaceAuth& who, std::string_view body);
    // POST /api/v3/comms/workspace/interaction: a click, dismissal or submission, counted.
    EdgeResult<json::object> Interact(const WorkspaceAuth& who, std::string_view body);
    // The legacy sync a stock server falls back to when comms fails:
    // POST <registration_client_uri>/client (record + banners), GET .../license,
    // POST .../client/downgrade.
    EdgeResult<json::object>
    LegacyClient(const WorkspaceAuth& who, std::string_view id, std::string_view body);
    EdgeResult<json::object>
    LegacyLicense(const WorkspaceAuth& who, std::string_view id, std::string_view version);
    EdgeResult<json::object> Downgrade(const WorkspaceAuth& who, std::string_view id);

    // Called after each sync with the workspace as stored (series for the fleet view).
    void SetOnSync(std::function<void(const store::Object&)> fn) { on_sync_ = std::move(fn); }

    // What the marketplace needs of a workspace: its tenant, its plan (its own, else its
    // tenant's) and whether that plan includes enterprise-only apps; nullopt when there is no
    // such workspace.
    struct Facts {
        std::string tenant;
        std::string plan;
        bool enterprise_apps = false;
    };
    std::optional<Facts> FactsOf(std::string_view id);

    // The license data a workspace holds: {"version", "address", "license", "updatedAt", "modules",
    // "expireAt"}.
    json::object LicenseData(const store::Object& ws);

private:
    // client_id and client_secret of a workspace: the workspace, or the contract's error
    // (oauth_invalid_client_credentials means exactly "these credentials are wrong").
    EdgeResult<store::Object> AuthenticateClient(const OAuthForm& form);
    EdgeResult<json::object> ExchangeCode(const store::Object& ws, const OAuthForm& form);
    EdgeResult<json::object> RefreshUserToken(const store::Object& ws, const OAuthForm& form);
    // The workspace of an authorize request, with its redirect URI checked; an error page else.
    EdgeResult<store::Object> AuthorizeTarget(const OAuthForm& query, std::string& redirect_uri);
    std::string UserAccessToken(const store::Object& link, int64_t expires_unix) const;
    // Records what a sync (or legacy /client) says; the workspace as stored.
    EdgeResult<store::Object>
    Record(const WorkspaceAuth& who, std::string_view id, std::string_view body);
    // The workspace's plan: its own, else its tenant's ("" when neither has one).
    std::string PlanOf(const store::Object& ws);
    // The announcements for `ws` now, and what it then holds (written to its status).
    EdgeResult<json::object> DeliverAnnouncements(const store::Object& ws);
    json::object Credentials(const store::Object& ws, const std::string& secret);
    std::string AccessToken(const store::Object& ws, uint32_t scopes, int64_t expires_unix) const;
    store::Store& store_;
    const CloudKeys& keys_;
    const core::Clock& clock_;
    WorkspaceOptions opts_;
    std::function<void(const store::Object&)> on_sync_;
    // What a token check needs of a workspace, parsed once per revision (or kept two seconds
    // when the store has no document cache).
    struct AuthInfo {
        int64_t revision = 0;
        std::string tenant;
        int64_t epoch = 0;
        bool disabled = false;
        std::chrono::steady_clock::time_point fetched;
    };
    core::RateLimiter code_guesses_{1.0 / 6, 10};
    mutable std::mutex auth_mu_;
    mutable std::unordered_map<std::string, AuthInfo> auth_cache_;
};

// Shared by the workspace-side files (workspaces, comms, user_oauth, checkout).
int64_t UnixNow(const core::Clock& clock);
std::string Rfc3339(int64_t unix);
// "<prefix><object id>.<secret>" → (id, secret); false unless the id is an `id_prefix` id and
// the secret 32-64 characters (what NewSecretToken issues).
bool SplitSecret(
    std::string_view token,
    std::string_view prefix,
    std::string_view id_prefix,
    std::string& id,
    std::string& secret
);

// The registration record fields Hangar reads (the rest is kept as sent); a record that is not
// an object, or whose known fields have the wrong types, is refused with a message naming it.
EdgeResult<json::object> ReadRegistrationRecord(std::string_view body);

}  // namespace hangar::edge
