// POST /api/v2/checkout (scope workspace:billing) answers the URL of a page that says what the
// workspace's plan costs, with a link back to the workspace and to the tenant's billing in the
// dashboard. The URL is signed and expires: the page needs no sign-in and shows nothing else.
// Billing itself (subscriptions, invoices) is not this; the page links to where it lives.
// Also the two public calls a stock server makes before it registers: the legacy start
// (POST /api/v2/register/workspace) and the setup wizard's pre-intent.

#include <fmt/format.h>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/strings.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::edge {

using core::ErrorCode;

namespace {

constexpr int64_t kCheckoutTtl = 3600;

// A callback the server sent, kept only when it is an http(s) URL under the workspace's address.
std::string SafeCallback(const json::object& body, std::string_view key, std::string address) {
    std::string url = core::StrAt(body, key);
    while (!address.empty() && address.back() == '/') {
        address.pop_back();
    }
    if (url.empty() || address.empty() || core::HttpUrlProblem(url) ||
        !(url == address || url.starts_with(address + "/"))) {
        return "";
    }
    return url;
}

std::string Money(int64_t cents, std::string_view currency) {
    return fmt::format("{}.{:02} {}", cents / 100, cents % 100, currency);
}

}  // namespace

EdgeResult<json::object> Workspaces::Checkout(const WorkspaceAuth& who, std::string_view body) {
    json::object fields;
    if (!body.empty()) {
        if (body.size() > 8192) {
            return EdgeFail(
                413, "payload_too_large", "a checkout request is limited to 8192 bytes"
            );
        }
        auto parsed = core::ParseJsonObject(body);
        if (!parsed) {
            return EdgeFail(400, "invalid_request", "the body must be a JSON object");
        }
        fields = std::move(*parsed);
    }
    auto ws = store_.Get(who.workspace_id);
    if (!ws) {
        if (ws.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        return std::unexpected(StoreTrouble(ws.error()));
    }
    std::string address = core::StrAt(ws->status, "address");
    int64_t expires = core::UnixSeconds(clock_.Now()) + kCheckoutTtl;
    std::string ok = SafeCallback(fields, "okCallback", address);
    std::string cancel = SafeCallback(fields, "cancelCallback", address);
    std::string payload = fmt::format("{}|{}|{}|{}", ws->id, expires, ok, cancel);
    std::string signature = core::Base64UrlEncode(keys_.Mac("checkout|" + payload));
    return json::object{
        {"url",
         fmt::format(
             "{}/checkout/{}?expires={}&ok={}&cancel={}&sig={}",
             opts_.base_url,
             ws->id,
             expires,
             core::UrlEncode(ok),
             core::UrlEncode(cancel),
             signature
         )}};
}

UserAuthorizeAnswer Workspaces::CheckoutPage(std::string_view id, const OAuthForm& query) {
    auto page = [](int status, const std::string& body) {
        return UserAuthorizeAnswer{
            status,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Your plan · Hangar</title><style>body{font:16px/1.5 system-ui,sans-serif;"
            "max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}"
            ".price{font-size:2rem;font-weight:600}.muted{color:#57606a}</style></head><body>" +
                body + "</body></html>",
            {}};
    };
    std::string expires = FormField(query, "expires").value_or("");
    std::string ok = FormField(query, "ok").value_or("");
    std::string cancel = FormField(query, "cancel").value_or("");
    std::string payload = fmt::format("{}|{}|{}|{}", id, expires, ok, cancel);
    std::string sig;
    if (!core::Base64UrlDecode(FormField(query, "sig").value_or(""), sig) ||
        !core::SecretEquals(sig, keys_.Mac("checkout|" + payload))) {
        return page(
            403,
            "<h1>This link is not valid</h1><p>Open the subscription page from "
            "your workspace again.</p>"
        );
    }
    bool fresh = !expires.empty() && expires.size() <= 12 &&
                 expires.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoll(expires) >= core::UnixSeconds(clock_.Now());
    if (!fresh) {
        return page(
            410,
            "<h1>This link expired</h1><p>Open the subscription page from your workspace "
            "again.</p>"
        );
    }
    auto ws = store_.Get(std::string(id));
    if (!ws || ws->kind != "Workspace") {
        return page(404, "<h1>This workspace is no longer registered</h1>");
    }
    std::string plan_name = PlanOf(*ws);
    std::string body = "<h1>Your plan</h1>";
    auto plan = plan_name.empty()
                    ? core::Result<store::Object>(core::Fail(ErrorCode::kNotFound, ""))
                    : store_.FindByName("Plan", "", plan_name);
    if (!plan) {
        body += "<p>This workspace has no plan yet: its operator assigns one.</p>";
    } else {
        std::string title = core::StrAt(plan->spec, "display_name");
        body += fmt::format(
            "<p><strong>{}</strong> ({} MiB, {} millicores per instance)</p>",
            core::HtmlEscape(title.empty() ? plan->name : title),
            core::IntAt(plan->spec, "memory_mb"),
            core::IntAt(plan->spec, "cpu_millis")
        );
        if (const json::object* price = core::ObjectAt(plan->spec, "price")) {
            body += fmt::format(
                "<p class=\"price\" data-testid=\"price\">{} <span class=\"muted\">per "
                "{}</span></p>",
                core::HtmlEscape(
                    Money(core::IntAt(*price, "amount_cents"), core::StrAt(*price, "currency"))
                ),
                core::HtmlEscape(core::StrAt(*price, "interval"))
            );
        } else {
            body += "<p>The price of this plan is agreed with your operator.</p>";
        }
        if (const json::object* ent = core::ObjectAt(plan->spec, "entitlements")) {
            if (int64_t push = core::IntAt(*ent, "monthly_push_notifications"); push > 0) {
                body += fmt::format("<p>{} push notifications a month.</p>", push);
            }
        }
    }
    body += fmt::format(
        "<p><a href=\"{}/#/tenants/{}\">Billing and invoices for your organisation</a></p>",
        core::HtmlEscape(opts_.base_url),
        core::HtmlEscape(ws->tenant)
    );
    if (!ok.empty() || !cancel.empty()) {
        body += fmt::format(
            "<p><a href=\"{}\">Back to your workspace</a></p>",
            core::HtmlEscape(cancel.empty() ? ok : cancel)
        );
    }
    return page(200, body);
}

EdgeResult<json::object> Workspaces::LegacyStart(std::string_view body) {
    auto rec = ReadRegistrationRecord(body);
    if (!rec) {
        return std::unexpected(rec.error());
    }
    // The server keeps this as Cloud_Workspace_Id until it registers with a token, which answers
    // the real id. Stable for a server (its uniqueId), and no object is made for an anonymous
    // caller.
    std::string unique = core::StrAt(*rec, "uniqueId");
    if (unique.empty()) {
        return EdgeFail(400, "invalid_request", "uniqueId is required");
    }
    return json::object{{"id", "pre_" + core::Sha256Hex(unique).substr(0, 20)}};
}

EdgeResult<json::object> Workspaces::PreIntent(std::string_view body) {
    auto rec = ReadRegistrationRecord(body);
    if (!rec) {
        return std::unexpected(rec.error());
    }
    return json::object{};  // the wizard reads only that it succeeded
}

}  // namespace hangar::edge
