// "Connect my account": a Hangar user links their account to a workspace with OAuth 2's
// authorization-code grant, as a stock server asks for it (protocols/workspace-cloud.md
// section 7): GET /authorize?response_type=code&client_id&redirect_uri&scope=openid
// offline_access&state, a consent page where the user signs in with a Hangar token, a code sent
// back to the workspace's callback, the code exchanged for an access and a refresh token, the
// refresh grant, and POST /api/oauth/revoke at logout. Each link is an AccountLink object (one per
// workspace and user) holding only hashes of its secrets.

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/strings.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::edge {

using core::ErrorCode;

namespace {

constexpr int64_t kCodeTtl = 600;  // seconds: a code is exchanged at once or not at all
constexpr int64_t kUserTokenTtl = 3600;
constexpr std::string_view kUserScopes = "openid offline_access";

UserAuthorizeAnswer Page(int status, std::string_view title, const std::string& body) {
    return UserAuthorizeAnswer{
        status,
        fmt::format(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>{0} · Hangar</title><style>body{{font:16px/1.5 system-ui,sans-serif;"
            "max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}}"
            "label,input,button{{display:block;width:100%;box-sizing:border-box}}"
            "input{{padding:.5rem;margin:.25rem 0 1rem}}button{{padding:.6rem;margin:.5rem 0}}"
            ".muted{{color:#57606a}}.error{{color:#b3261e}}</style></head><body>"
            "<h1>{0}</h1>{1}</body></html>",
            core::HtmlEscape(title),
            body
        ),
        {}};
}

UserAuthorizeAnswer ErrorPage(int status, const std::string& message) {
    return Page(
        status,
        "Cannot connect this account",
        R"(<p class="error" role="alert">)" + core::HtmlEscape(message) +
            "</p><p class=\"muted\">Nothing was changed. Go back to your workspace and try "
            "again, or ask its administrator.</p>"
    );
}

// "wks_01abc..." and "usr_01def..." → "l-wks01abc...-usr01def...": a DNS label.
std::string LinkName(std::string_view workspace, std::string_view user) {
    std::string out = "l-";
    for (std::string_view part : {workspace, user}) {
        if (out.size() > 2) {
            out.push_back('-');
        }
        for (char c : part) {
            if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
                out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
            }
        }
    }
    return out.substr(0, 63);
}

std::string NewSecret() {
    std::string t = core::NewSecretToken();  // "hgr_" + 43 characters
    return t.substr(4);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find(sep, i);
        if (j == std::string_view::npos) {
            j = s.size();
        }
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::string WithQuery(const std::string& uri, const std::string& query) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

std::optional<std::string> FormField(const OAuthForm& form, std::string_view key) {
    for (const auto& [n, v] : form) {
        if (n == key) {
            return v;
        }
    }
    return std::nullopt;
}

EdgeResult<store::Object>
Workspaces::AuthorizeTarget(const OAuthForm& query, std::string& redirect_uri) {
    if (FormField(query, "response_type").value_or("") != "code") {
        return EdgeFail(400, "unsupported_response_type", "response_type must be code");
    }
    std::string client_id = FormField(query, "client_id").value_or("");
    if (!core::IsValidId(client_id, "wks")) {
        return EdgeFail(400, "invalid_client", "client_id is not a workspace this cloud knows");
    }
    auto ws = store_.Get(client_id);
    if (!ws || ws->kind != "Workspace" || core::StrAt(ws->status, "registration") != "Registered") {
        if (!ws && ws.error().code != ErrorCode::kNotFound) {
            return std::unexpected(StoreTrouble(ws.error()));
        }
        return EdgeFail(400, "invalid_client", "client_id is not a registered workspace");
    }
    if (core::BoolAt(ws->spec, "disabled")) {
        return EdgeFail(403, "workspace_disabled", "an operator disabled this workspace");
    }
    redirect_uri = FormField(query, "redirect_uri").value_or("");
    // Only where the workspace said it would be called back, or under its own address: a code
    // must never go to a third party.
    bool known = false;
    if (const json::value* uris = ws->status.if_contains("redirect_uris");
        uris != nullptr && uris->is_array()) {
        for (const auto& u : uris->as_array()) {
            known = known || (u.is_string() && u.as_string() == redirect_uri);
        }
    }
    std::string address = core::StrAt(ws->status, "address");
    while (!address.empty() && address.back() == '/') {
        address.pop_back();
    }
    if (!known && !address.empty() && redirect_uri.starts_with(address + "/") &&
        redirect_uri.find_first_of("\r\n\"<> ") == std::string::npos) {
        known = true;
    }
    if (!known) {
        return EdgeFail(
            400,
            "invalid_request",
            "redirect_uri is neither one the workspace registered nor under its address"
        );
    }
    std::string scope = FormField(query, "scope").value_or(std::string(kUserScopes));
    for (std::string_view s : Split(scope, ' ')) {
        if (!s.empty() && s != "openid" && s != "offline_access") {
            return EdgeFail(
                400,
                "invalid_scope",
                fmt::format("a user link grants openid and offline_access, not {}", s)
            );
        }
    }
    std::string state = FormField(query, "state").value_or("");
    if (state.size() > 512) {
        return EdgeFail(400, "invalid_request", "state is limited to 512 characters");
    }
    return std::move(*ws);
}

UserAuthorizeAnswer Workspaces::AuthorizePage(const OAuthForm& query) {
    std::string redirect_uri;
    auto ws = AuthorizeTarget(query, redirect_uri);
    if (!ws) {
        return ErrorPage(ws.error().status, ws.error().description);
    }
    std::string name = core::StrAt(ws->status, "client_name");
    if (name.empty()) {
        name = ws->name;
    }
    std::string hidden;
    for (auto key : {"response_type", "client_id", "redirect_uri", "scope", "state"}) {
        hidden += fmt::format(
            R"(<input type="hidden" name="{}" value="{}">)",
            key,
            core::HtmlEscape(FormField(query, key).value_or(""))
        );
    }
    return Page(
        200,
        "Connect your account",
        fmt::format(
            "<p>The workspace <strong>{}</strong> ({}) asks to connect your Hangar account. It "
            "will learn your name and e-mail address, and stay connected until you sign out "
            "there.</p><form method=\"post\" action=\"/authorize\">{}"
            "<label for=\"token\">Your Hangar API token</label>"
            "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>"
            "<button type=\"submit\" name=\"decision\" value=\"approve\">Connect</button>"
            "<button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Cancel"
            "</button></form>",
            core::HtmlEscape(name),
            core::HtmlEscape(core::StrAt(ws->status, "address")),
            hidden
        )
    );
}

UserAuthorizeAnswer
Workspaces::AuthorizeDecision(const OAuthForm& form, const std::optional<auth::Principal>& who) {
    std::string redirect_uri;
    auto ws = AuthorizeTarget(form, redirect_uri);
    if (!ws) {
        return ErrorPage(ws.error().status, ws.error().description);
    }
    std::string state = FormField(form, "state").value_or("");
    std::string state_param = state.empty() ? "" : "&state=" + core::UrlEncode(state);
    if (FormField(form, "decision").value_or("") != "approve") {
        return UserAuthorizeAnswer{
            303, {}, WithQuery(redirect_uri, "error=access_denied" + state_param)};
    }
    if (!who) {
        return ErrorPage(401, "That API token is not valid (or it expired, or it was revoked).");
    }
    if (who->user_id.empty()) {
        return ErrorPage(403, "That token belongs to no user: sign in with a token issued to you.");
    }
    if (!who->IsAdmin() && who->tenant != ws->tenant) {
        return ErrorPage(403, "That token belongs to another tenant than this workspace's.");
    }
    std::string secret = NewSecret();
    int64_t now = UnixNow(clock_);
    std::string t = Rfc3339(now);
    std::string name = LinkName(ws->id, who->user_id);
    std::string scope = FormField(form, "scope").value_or(std::string(kUserScopes));
    auto fill = [&](store::Object& o) {
        o.spec["workspace"] = ws->id;
        o.spec["user"] = who->user_id;
        o.status["code_hash"] = core::Sha256Hex(secret);
        o.status["code_expires_unix"] = now + kCodeTtl;
        o.status["code_redirect_uri"] = redirect_uri;
        o.status["scope"] = scope;
        o.status["authorized_at"] = t;
        if (core::StrAt(o.status, "state").empty()) {
            o.status["state"] = "Authorized";
        }
    };
    store::AuditEvent audit = store::SystemAudit(t, who->Actor(), ws->tenant, "");
    std::string link_id;
    if (auto existing = store_.FindByName("AccountLink", ws->tenant, name)) {
        link_id = existing->id;
        audit.object = link_id;
        auto u = store_.Update(
            link_id,
            std::nullopt,
            t,
            [&](store::Object& o) -> core::Result<void> {
                fill(o);
                return {};
            },
            audit
        );
        if (!u) {
            return ErrorPage(503, "The cloud could not record this; try again in a moment.");
        }
    } else {
        store::Object link;
        link.id = core::NewId("alk");
        link.kind = "AccountLink";
        link.tenant = ws->tenant;
        link.name = name;
        link.created_at = link.updated_at = t;
        link.generation = 1;
        fill(link);
        link_id = link.id;
        audit.object = link_id;
        if (auto c = store_.Create(link, std::nullopt, audit); !c) {
            return ErrorPage(503, "The cloud could not record this; try again in a moment.");
        }
    }
    std::string code = "hac_" + link_id + "." + secret;
    return UserAuthorizeAnswer{
        303, {}, WithQuery(redirect_uri, "code=" + core::UrlEncode(code) + state_param)};
}

std::string Workspaces::UserAccessToken(const store::Object& link, int64_t expires_unix) const {
    std::string payload = fmt::format(
        "{}|{}|{}|{}",
        link.id,
        core::StrAt(link.spec, "user"),
        expires_unix,
        core::IntAt(link.status, "epoch")
    );
    // A MAC of its own domain: a user token can never pass as a workspace token.
    return "hua_" + core::Base64UrlEncode(payload) + "." +
           core::Base64UrlEncode(keys_.Mac("user-token|" + payload));
}

EdgeResult<json::object> Workspaces::ExchangeCode(const store::Object& ws, const OAuthForm& form) {
    std::string id, secret;
    if (!SplitSecret(FormField(form, "code").value_or(""), "hac_", "alk", id, secret)) {
        return EdgeFail(400, "invalid_grant", "code is not one this cloud issued");
    }
    std::string redirect_uri = FormField(form, "redirect_uri").value_or("");
    int64_t now = UnixNow(clock_);
    std::string t = Rfc3339(now);
    std::string refresh = NewSecret();
    std::optional<EdgeError> refused;
    auto u = store_.Update(
        id,
        std::nullopt,
        t,
        [&](store::Object& o) -> core::Result<void> {
            std::string why;
            if (o.kind != "AccountLink" || core::StrAt(o.spec, "workspace") != ws.id ||
                !core::SecretEquals(core::StrAt(o.status, "code_hash"), core::Sha256Hex(secret))) {
                why = "code is not one this cloud issued to this workspace, or it was used";
            } else if (core::IntAt(o.status, "code_expires_unix") <= now) {
                why = "code expired: codes are exchanged within 10 minutes";
            } else if (!redirect_uri.empty() &&
                       redirect_uri != core::StrAt(o.status, "code_redirect_uri")) {
                why = "redirect_uri differs from the authorize request's";
            }
            if (!why.empty()) {
                refused = EdgeError{400, "invalid_grant", why};
                return core::Fail(ErrorCode::kConflict, why);
            }
            o.status.erase("code_hash");  // once only
            o.status.erase("code_expires_unix");
            o.status["refresh_hash"] = core::Sha256Hex(refresh);
            o.status["state"] = "Connected";
            o.status["connected_at"] = t;
            o.status.erase("revoked_at");
            return {};
        },
        store::SystemAudit(t, "workspace:" + ws.id, ws.tenant, id)
    );
    if (refused) {
        return std::unexpected(*refused);
    }
    if (!u) {
        if (u.error().code == ErrorCode::kNotFound) {
            return EdgeFail(400, "invalid_grant", "code is not one this cloud issued");
        }
        return std::unexpected(StoreTrouble(u.error()));
    }
    int64_t expires = now + kUserTokenTtl;
    return json::object{
        {"access_token", UserAccessToken(*u, expires)},
        {"expires_in", kUserTokenTtl},
        {"scope", core::StrAt(u->status, "scope")},
        {"token_type", "Bearer"},
        {"refresh_token", "hrt_" + id + "." + refresh},
    };
}

EdgeResult<json::object>
Workspaces::RefreshUserToken(const store::Object& ws, const OAuthForm& form) {
    std::string id, secret;
    if (!SplitSecret(FormField(form, "refresh_token").value_or(""), "hrt_", "alk", id, secret)) {
        return EdgeFail(400, "invalid_grant", "refresh_token is not one this cloud issued");
    }
    auto link = store_.Get(id);
    if (!link) {
        if (link.error().code != ErrorCode::kNotFound) {
            return std::unexpected(StoreTrouble(link.error()));
        }
        return EdgeFail(400, "invalid_grant", "refresh_token is not one this cloud issued");
    }
    if (link->kind != "AccountLink" || core::StrAt(link->spec, "workspace") != ws.id ||
        !core::SecretEquals(core::StrAt(link->status, "refresh_hash"), core::Sha256Hex(secret))) {
        return EdgeFail(
            400, "invalid_grant", "the refresh_token was revoked or is not this workspace's"
        );
    }
    int64_t expires = UnixNow(clock_) + kUserTokenTtl;
    return json::object{
        {"access_token", UserAccessToken(*link, expires)},
        {"expires_in", kUserTokenTtl},
        {"scope", core::StrAt(link->status, "scope")},
        {"token_type", "Bearer"},
    };
}

EdgeResult<json::object> Workspaces::Revoke(const OAuthForm& form) {
    auto ws = AuthenticateClient(form);
    if (!ws) {
        return std::unexpected(ws.error());
    }
    std::string token = FormField(form, "token").value_or("");
    if (token.empty()) {
        return EdgeFail(400, "invalid_request", "token is required");
    }
    std::string id, secret;
    if (!SplitSecret(token, "hrt_", "alk", id, secret)) {
        return json::object{};  // RFC 7009: an unknown token is answered like a revoked one
    }
    std::string t = Rfc3339(UnixNow(clock_));
    (void)store_.Update(
        id,
        std::nullopt,
        t,
        [&](store::Object& o) -> core::Result<void> {
            if (o.kind != "AccountLink" || core::StrAt(o.spec, "workspace") != ws->id ||
                !core::SecretEquals(
                    core::StrAt(o.status, "refresh_hash"), core::Sha256Hex(secret)
                )) {
                return core::Fail(ErrorCode::kConflict, "not this workspace's token");
            }
            o.status.erase("refresh_hash");
            o.status["state"] = "Revoked";
            o.status["revoked_at"] = t;
            o.status["epoch"] = core::IntAt(o.status, "epoch") + 1;  // its access tokens end too
            return {};
        },
        store::SystemAudit(t, "workspace:" + ws->id, ws->tenant, id)
    );
    return json::object{};
}

EdgeResult<json::object> Workspaces::UserInfo(std::string_view authorization) {
    std::string_view token = core::TrimSpaces(core::BearerCredential(authorization));
    size_t dot = token.find('.');
    std::string payload, mac;
    if (!token.starts_with("hua_") || dot == std::string_view::npos ||
        !core::Base64UrlDecode(token.substr(4, dot - 4), payload) ||
        !core::Base64UrlDecode(token.substr(dot + 1), mac) ||
        !core::SecretEquals(mac, keys_.Mac("user-token|" + payload))) {
        return EdgeFail(
            401, "invalid_token", "send a user access token from the authorization-code grant"
        );
    }
    auto parts = Split(payload, '|');
    if (parts.size() != 4) {
        return EdgeFail(401, "invalid_token", "malformed user access token");
    }
    int64_t expires = 0, epoch = 0;
    try {
        expires = std::stoll(std::string(parts[2]));
        epoch = std::stoll(std::string(parts[3]));
    } catch (const std::exception&) {
        return EdgeFail(401, "invalid_token", "malformed user access token");
    }
    if (expires <= UnixNow(clock_)) {
        return EdgeFail(401, "invalid_token", "the access token expired; use the refresh token");
    }
    auto link = store_.Get(std::string(parts[0]));
    if (!link || link->kind != "AccountLink" || core::StrAt(link->status, "state") != "Connected" ||
        core::IntAt(link->status, "epoch") != epoch) {
        return EdgeFail(401, "invalid_token", "the account link was revoked");
    }
    auto user = store_.Get(std::string(parts[1]));
    if (!user || user->kind != "User") {
        return EdgeFail(401, "invalid_token", "the user no longer exists");
    }
    return json::object{
        {"sub", user->id},
        {"name",
         core::StrAt(user->spec, "display_name").empty() ? user->name
                                                         : core::StrAt(user->spec, "display_name")},
        {"email", core::StrAt(user->spec, "email")},
        {"tenant", user->tenant},
    };
}

}  // namespace hangar::edge
