#include "hangar/cli/commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "hangar/cli/apply.hpp"
#include "hangar/cli/client.hpp"
#include "hangar/cli/output.hpp"
#include "hangar/core/audit_chain.hpp"

namespace hangar::cli {

namespace json = boost::json;

namespace {

struct Globals {
    std::string server, token, output = "table", config;
};

// A failed command: its message is printed and its exit code returned from main.
[[noreturn]] void Exit(const core::Error& e) {
    fmt::print(stderr, "hangar: {}\n", e.message);
    int code = e.code == core::ErrorCode::kUnavailable && e.message.starts_with("cannot reach")
                   ? 2
                   : core::ExitCode(e.code);
    throw CLI::RuntimeError(code);
}

ClientConfig Resolve(const Globals& g) {
    ClientConfig cfg;
    std::string path = g.config;
    if (path.empty()) {
        const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe)
        if (home != nullptr) {
            path = std::string(home) + "/.config/hangar/config.yaml";
        }
    }
    if (!path.empty() && std::filesystem::exists(path)) {
        try {
            YAML::Node n = YAML::LoadFile(path);
            if (n["server"]) {
                cfg.server = n["server"].as<std::string>();
            }
            if (n["token"]) {
                cfg.token = n["token"].as<std::string>();
            }
            if (n["token_file"]) {
                std::ifstream f(n["token_file"].as<std::string>());
                std::getline(f, cfg.token);
            }
        } catch (const YAML::Exception& e) {
            Exit(core::MakeError(
                core::ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, e.what())
            ));
        }
    }
    if (!g.server.empty()) {
        cfg.server = g.server;
    }
    if (!g.token.empty()) {
        cfg.token = g.token;
    }
    cfg.output = g.output;
    return cfg;
}

json::value CallOrExit(
    Client& c,
    const std::string& method,
    const std::string& path,
    const std::string& body = "",
    const std::vector<std::string>& headers = {}
) {
    auto r = c.Call(method, path, body, headers);
    if (!r) {
        Exit(r.error());
    }
    return std::move(*r);
}

const std::vector<Column> kTokenCols = {
    {"ID", "id"},
    {"ROLE", "role"},
    {"TENANT", "tenant"},
    {"NAME", "name"},
    {"EXPIRES", "expires_at"},
    {"REVOKED", "revoked_at"}};
const std::vector<Column> kAuditCols = {
    {"SEQ", "seq"},
    {"TIME", "time"},
    {"ACTOR", "actor"},
    {"ACTION", "action"},
    {"OBJECT", "object"},
    {"TENANT", "tenant"},
    {"OUTCOME", "outcome"}};

void Print(const ClientConfig& cfg, const json::value& v, const std::vector<Column>& cols) {
    if (cfg.output == "json") {
        std::cout << RenderJson(v);
    } else if (cfg.output == "yaml") {
        std::cout << RenderYaml(v);
    } else if (v.is_object() && v.as_object().contains("items")) {
        std::cout << RenderTable(v.as_object().at("items").as_array(), cols);
    } else {
        json::array one;
        one.push_back(v);
        std::cout << RenderTable(one, cols);
    }
}

struct KindRef {
    std::string plural;
    std::vector<Column> cols;
};

// The server's kinds (GET /v1/kinds), read once per command; nullptr when the server cannot say
// (an older server without the route).
const json::array* TryServerKinds(Client& client) {
    static std::optional<json::array> kinds;
    static bool asked = false;
    if (!asked) {
        asked = true;
        auto v = client.Call("GET", "/v1/kinds");
        const json::value* items =
            v && v->is_object() ? v->as_object().if_contains("items") : nullptr;
        if (items != nullptr && items->is_array()) {
            kinds = items->as_array();
        }
    }
    return kinds ? &*kinds : nullptr;
}

// The same, for commands that cannot go on without them: a server that cannot say is an error.
const json::array& ServerKinds(Client& client) {
    if (const json::array* kinds = TryServerKinds(client)) {
        return *kinds;
    }
    CallOrExit(client, "GET", "/v1/kinds");  // exits with the server's error
    static const json::array kNone;
    return kNone;
}

KindRef RefOf(const json::object& kind) {
    KindRef ref{std::string(kind.at("plural").as_string()), {}};
    for (const auto& c : kind.at("columns").as_array()) {
        ref.cols.push_back(
            {std::string(c.at("header").as_string()), std::string(c.at("path").as_string())}
        );
    }
    return ref;
}

// A kind as the user names it: its name in any case ("instance", "Instance"), its plural or its
// id prefix. Tokens are not a kind (they have routes of their own) but read the same way.
KindRef ResolveKind(Client& client, const std::string& k) {
    if (k == "token" || k == "tokens" || k == "tok") {
        return {"tokens", kTokenCols};
    }
    std::string lower = k;
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::vector<std::string> known{"tokens"};
    for (const auto& v : ServerKinds(client)) {
        const json::object& kind = v.as_object();
        std::string name(kind.at("kind").as_string());
        for (char& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (lower == name || lower == kind.at("plural").as_string() ||
            lower == kind.at("prefix").as_string()) {
            return RefOf(kind);
        }
        known.emplace_back(kind.at("plural").as_string());
    }
    Exit(core::MakeError(
        core::ErrorCode::kInvalidArgument,
        fmt::format("unknown kind \"{}\"; known kinds: {}", k, fmt::join(known, ", "))
    ));
}

// The table of a kind whose object a command has already written (a created tenant, an
// acknowledged page): the server's columns, or ID and NAME when the server cannot say (an older
// server without GET /v1/kinds), so that the command still reports what it did.
std::vector<Column> ColumnsAfterWrite(Client& client, std::string_view plural) {
    if (const json::array* kinds = TryServerKinds(client)) {
        for (const auto& k : *kinds) {
            const json::value* name = k.is_object() ? k.as_object().if_contains("plural") : nullptr;
            if (name != nullptr && name->is_string() && name->as_string() == plural) {
                return RefOf(k.as_object()).cols;
            }
        }
    }
    return {{"ID", "metadata.id"}, {"NAME", "metadata.name"}};
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string q;
    for (const auto& [k, v] : params) {
        if (!v.empty()) {
            q += (q.empty() ? "?" : "&") + k + "=" + UrlEncode(v);
        }
    }
    return q;
}

// Every page of a list endpoint, joined into one "items" array.
json::value ListAll(Client& c, const std::string& path, const std::string& query) {
    json::array all;
    std::string cursor;
    json::value last;
    do {
        std::string q = query;
        if (!cursor.empty()) {
            q += (q.empty() ? "?" : "&") + std::string("cursor=") + UrlEncode(cursor);
        }
        last = CallOrExit(c, "GET", path + q);
        for (auto& item : last.as_object()["items"].as_array()) {
            all.push_back(item);
        }
        const json::value* next = last.as_object().if_contains("next_cursor");
        cursor = next != nullptr && next->is_string() ? std::string(next->as_string()) : "";
    } while (!cursor.empty());
    last.as_object()["items"] = std::move(all);
    last.as_object().erase("next_cursor");
    return last;
}

void AddTenant(CLI::App& app, Globals& g) {
    CLI::App* tenant = app.add_subcommand("tenant", "Manage tenants (customer organizations)");
    tenant->require_subcommand(1);

    auto create = std::make_shared<
        std::tuple<std::string, std::string, std::string, std::string, std::vector<std::string>>>();
    CLI::App* c = tenant->add_subcommand("create", "Create a tenant (platform admins)");
    c->add_option("name", std::get<0>(*create), "Tenant name: lowercase letters, digits and '-'")
        ->required();
    c->add_option("--display-name", std::get<1>(*create), "Human-readable name");
    c->add_option("--contact-email", std::get<2>(*create), "Who to contact");
    c->add_option("--plan", std::get<3>(*create), "Plan name");
    c->add_option("-l,--label", std::get<4>(*create), "Label KEY=VALUE (repeatable)");
    c->callback([&g, create] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::object spec;
        auto& [name, display, email, plan, labels] = *create;
        if (!display.empty()) {
            spec["display_name"] = display;
        }
        if (!email.empty()) {
            spec["contact_email"] = email;
        }
        if (!plan.empty()) {
            spec["plan"] = plan;
        }
        json::object lab;
        for (const auto& l : labels) {
            auto eq = l.find('=');
            if (eq == std::string::npos) {
                Exit(core::MakeError(
                    core::ErrorCode::kInvalidArgument,
                    fmt::format("--label \"{}\": use KEY=VALUE", l)
                ));
            }
            lab[l.substr(0, eq)] = l.substr(eq + 1);
        }
        json::object md{{"name", name}, {"labels", lab}};
        json::object body{{"metadata", md}, {"spec", spec}};
        Print(
            cfg,
            CallOrExit(client, "POST", "/v1/tenants", json::serialize(body)),
            ColumnsAfterWrite(client, "tenants")
        );
    });

    auto selector = std::make_shared<std::string>();
    CLI::App* l = tenant->add_subcommand("list", "List tenants");
    l->add_option("-l,--selector", *selector, "Label selector, e.g. tier=gold");
    l->callback([&g, selector] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(
            cfg,
            ListAll(client, "/v1/tenants", Query({{"selector", *selector}})),
            ColumnsAfterWrite(client, "tenants")
        );
    });
}

void AddToken(CLI::App& app, Globals& g) {
    CLI::App* token = app.add_subcommand("token", "Manage API tokens");
    token->require_subcommand(1);

    struct Opts {
        std::string tenant, role, name, expires, user;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* c = token->add_subcommand("create", "Create a token; its secret is printed once");
    c->add_option("--role", o->role, "admin, owner, operator or viewer")
        ->required()
        ->check(CLI::IsMember({"admin", "owner", "operator", "viewer"}));
    c->add_option("--tenant", o->tenant, "Tenant id (not for admin tokens)");
    c->add_option("--name", o->name, "What the token is for");
    c->add_option("--user", o->user, "User id the token acts for");
    c->add_option("--expires", o->expires, "Lifetime, e.g. 12h or 30d");
    c->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::object body{{"role", o->role}};
        if (!o->tenant.empty()) {
            body["tenant"] = o->tenant;
        }
        if (!o->name.empty()) {
            body["name"] = o->name;
        }
        if (!o->user.empty()) {
            body["user"] = o->user;
        }
        if (!o->expires.empty()) {
            body["expires_in"] = o->expires;
        }
        json::value r = CallOrExit(client, "POST", "/v1/tokens", json::serialize(body));
        if (cfg.output == "table") {
            std::cout << RenderTable(json::array{r}, kTokenCols);
            std::cout << "\nsecret (shown only now): " << At(r, "token") << "\n";
        } else {
            Print(cfg, r, kTokenCols);
        }
    });

    auto id = std::make_shared<std::string>();
    CLI::App* rv = token->add_subcommand("revoke", "Revoke a token");
    rv->add_option("id", *id, "Token id (tok_...)")->required();
    rv->callback([&g, id] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(cfg, CallOrExit(client, "DELETE", "/v1/tokens/" + UrlEncode(*id)), kTokenCols);
    });

    auto tenant = std::make_shared<std::string>();
    CLI::App* l = token->add_subcommand("list", "List tokens (never their secrets)");
    l->add_option("--tenant", *tenant, "Only this tenant's tokens");
    l->callback([&g, tenant] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(
            cfg, CallOrExit(client, "GET", "/v1/tokens" + Query({{"tenant", *tenant}})), kTokenCols
        );
    });
}

void AddGetDelete(CLI::App& app, Globals& g) {
    CLI::App* kinds = app.add_subcommand("kinds", "List the kinds of objects the server serves");
    kinds->callback([&g] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::object list;
        list["items"] = ServerKinds(client);
        Print(
            cfg,
            list,
            {{"KIND", "kind"},
             {"PLURAL", "plural"},
             {"PREFIX", "prefix"},
             {"SCOPE", "scope"},
             {"MODULE", "module"},
             {"ACTIONS", "actions"},
             {"SUMMARY", "summary"}}
        );
    });
    struct Opts {
        std::string kind, id, selector, tenant;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* get = app.add_subcommand("get", "Show objects of a kind, or one object");
    get->add_option(
           "kind", o->kind, "A kind (instances, tenants, tokens...: `hangar kinds` lists them)"
    )
        ->required();
    get->add_option("id", o->id, "One object's id");
    get->add_option("-l,--selector", o->selector, "Label selector");
    get->add_option("--tenant", o->tenant, "Only this tenant (platform admins)");
    get->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        KindRef k = ResolveKind(client, o->kind);
        std::string path = "/v1/" + k.plural;
        if (!o->id.empty()) {
            Print(cfg, CallOrExit(client, "GET", path + "/" + UrlEncode(o->id)), k.cols);
        } else if (k.plural == "tokens") {
            Print(cfg, CallOrExit(client, "GET", path + Query({{"tenant", o->tenant}})), k.cols);
        } else {
            Print(
                cfg,
                ListAll(client, path, Query({{"selector", o->selector}, {"tenant", o->tenant}})),
                k.cols
            );
        }
    });

    auto d = std::make_shared<Opts>();
    CLI::App* del = app.add_subcommand("delete", "Delete an object (tokens are revoked)");
    del->add_option(
           "kind", d->kind, "A kind (instances, tenants, tokens...: `hangar kinds` lists them)"
    )
        ->required();
    del->add_option("id", d->id, "The object's id")->required();
    del->callback([&g, d] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        KindRef k = ResolveKind(client, d->kind);
        Print(
            cfg, CallOrExit(client, "DELETE", "/v1/" + k.plural + "/" + UrlEncode(d->id)), k.cols
        );
    });
}

void AddAudit(CLI::App& app, Globals& g) {
    CLI::App* audit = app.add_subcommand("audit", "Read and verify the audit log");
    audit->require_subcommand(1);
    struct Opts {
        std::string tenant, actor, action, since, until;
        int limit = 100;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* l = audit->add_subcommand("list", "List audit events, oldest first");
    l->add_option("--tenant", o->tenant, "Only this tenant");
    l->add_option("--actor", o->actor, "Only this actor, e.g. token:tok_...");
    l->add_option("--action", o->action, "Only this action, e.g. tenant.create");
    l->add_option("--since", o->since, "RFC 3339 time");
    l->add_option("--until", o->until, "RFC 3339 time");
    l->add_option("--limit", o->limit, "At most this many events")->check(CLI::Range(1, 1000));
    l->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        std::string q = Query(
            {{"tenant", o->tenant},
             {"actor", o->actor},
             {"action", o->action},
             {"since", o->since},
             {"until", o->until},
             {"limit", std::to_string(o->limit)}}
        );
        Print(cfg, CallOrExit(client, "GET", "/v1/audit" + q), kAuditCols);
    });

    CLI::App* v = audit->add_subcommand(
        "verify", "Recompute the hash chain; report the first event edited, removed or reordered"
    );
    v->callback([&g] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        std::string prev(core::kAuditGenesisHash);
        int64_t expected_seq = 1;
        int64_t after = 0;
        int64_t checked = 0;
        auto report = [&](int64_t seq, const std::string& what) {
            json::object r{
                {"ok", false}, {"checked", checked}, {"first_bad_seq", seq}, {"problem", what}};
            if (cfg.output == "table") {
                fmt::print(
                    "audit chain BROKEN at event {}: {} ({} events verified before it)\n",
                    seq,
                    what,
                    checked
                );
            } else {
                Print(cfg, r, {});
            }
            throw CLI::RuntimeError(11);
        };
        while (true) {
            json::value page =
                CallOrExit(client, "GET", fmt::format("/v1/audit?after={}&limit=1000", after));
            const auto& items = page.as_object().at("items").as_array();
            for (const auto& item : items) {
                core::AuditFields f;
                f.seq = item.at("seq").as_int64();
                f.time = At(item, "time");
                f.actor = At(item, "actor");
                f.tenant = At(item, "tenant");
                f.action = At(item, "action");
                f.object = At(item, "object");
                f.request_id = At(item, "request_id");
                f.source = At(item, "source");
                f.outcome = At(item, "outcome");
                if (f.seq != expected_seq) {
                    report(
                        expected_seq,
                        f.seq > expected_seq
                            ? fmt::format("events {}..{} are missing", expected_seq, f.seq - 1)
                            : "events are out of order"
                    );
                }
                if (At(item, "prev_hash") != prev) {
                    report(f.seq, "it does not follow the event before it (removed or reordered)");
                }
                std::string h = core::AuditChainHash(prev, f);
                if (h != At(item, "hash")) {
                    report(f.seq, "its contents do not match its hash (edited)");
                }
                prev = h;
                ++expected_seq;
                ++checked;
                after = f.seq;
            }
            if (items.size() < 1000) {
                break;
            }
        }
        if (cfg.output == "table") {
            fmt::print("audit chain OK: {} events verified\n", checked);
        } else {
            Print(cfg, json::object{{"ok", true}, {"checked", checked}}, {});
        }
    });
}

void AddLogsAndDescribe(CLI::App& app, Globals& g) {
    struct LogOpts {
        std::string id;
        bool stderr_stream = false, follow = false;
        int tail = 100;
    };
    auto lo = std::make_shared<LogOpts>();
    CLI::App* logs =
        app.add_subcommand("logs", "Print an instance's log (stdout, or --stderr); -f follows it");
    logs->add_option("instance", lo->id, "Instance id (ins_...)")->required();
    logs->add_flag("--stderr", lo->stderr_stream, "The stderr log instead of stdout");
    logs->add_option("--tail", lo->tail, "Lines to start with")->check(CLI::Range(1, 100000));
    logs->add_flag("-f,--follow", lo->follow, "Keep printing what is appended (Ctrl-C to stop)");
    logs->callback([&g, lo] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        std::string base = "/v1/instances/" + UrlEncode(lo->id) +
                           "/logs?stream=" + (lo->stderr_stream ? "stderr" : "stdout");
        auto r = client.Text(base + "&tail=" + std::to_string(lo->tail));
        if (!r) {
            Exit(r.error());
        }
        std::cout << r->body << std::flush;
        std::string offset = r->log_offset;
        while (lo->follow) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            auto more = client.Text(base + "&offset=" + (offset.empty() ? "0" : offset));
            if (!more) {
                Exit(more.error());
            }
            std::cout << more->body << std::flush;
            offset = more->log_offset;
        }
    });

    struct DescOpts {
        std::string kind, id;
    };
    auto d = std::make_shared<DescOpts>();
    CLI::App* describe =
        app.add_subcommand("describe", "Show one object in full: spec, status, conditions, events");
    describe
        ->add_option("kind", d->kind, "A kind (instances, tenants...: `hangar kinds` lists them)")
        ->required();
    describe->add_option("id", d->id, "The object's id")->required();
    describe->callback([&g, d] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        KindRef k = ResolveKind(client, d->kind);
        json::value o = CallOrExit(client, "GET", "/v1/" + k.plural + "/" + UrlEncode(d->id));
        if (cfg.output != "table") {
            Print(cfg, o, {});
            return;
        }
        auto line = [](const std::string& label, const std::string& value) {
            if (!value.empty()) {
                fmt::print("{:<20}{}\n", label + ":", value);
            }
        };
        line("Name", At(o, "metadata.name"));
        line("Id", At(o, "metadata.id"));
        line("Kind", At(o, "metadata.kind"));
        line("Tenant", At(o, "metadata.tenant"));
        line("Labels", At(o, "metadata.labels"));
        line("Revision", At(o, "metadata.revision"));
        line("Generation", At(o, "metadata.generation"));
        line("Created", At(o, "metadata.created_at"));
        line("Deletion requested", At(o, "metadata.deletion_requested_at"));
        fmt::print("Spec:\n");
        for (const auto& kv : o.at("spec").as_object()) {
            fmt::print(
                "  {:<18}{}\n",
                std::string(kv.key()) + ":",
                kv.value().is_string() ? std::string(kv.value().as_string())
                                       : json::serialize(kv.value())
            );
        }
        const json::object& st = o.at("status").as_object();
        fmt::print("Status:\n");
        for (const auto& kv : st) {
            if (kv.key() != "conditions" && kv.key() != "events") {
                fmt::print(
                    "  {:<18}{}\n",
                    std::string(kv.key()) + ":",
                    kv.value().is_string() ? std::string(kv.value().as_string())
                                           : json::serialize(kv.value())
                );
            }
        }
        if (st.contains("conditions")) {
            fmt::print(
                "Conditions:\n{}",
                RenderTable(
                    st.at("conditions").as_array(),
                    {{"TYPE", "type"},
                     {"STATUS", "status"},
                     {"REASON", "reason"},
                     {"SINCE", "last_transition_time"},
                     {"MESSAGE", "message"}}
                )
            );
        }
        if (st.contains("events")) {
            fmt::print(
                "Events:\n{}",
                RenderTable(
                    st.at("events").as_array(),
                    {{"TIME", "time"}, {"REASON", "reason"}, {"MESSAGE", "message"}}
                )
            );
        }
    });
}

void AddSla(CLI::App& app, Globals& g) {
    CLI::App* sla = app.add_subcommand("sla", "Service-level reports");
    sla->require_subcommand(1);
    struct SlaOpts {
        std::string tenant, month;
    };
    auto o = std::make_shared<SlaOpts>();
    CLI::App* report = sla->add_subcommand(
        "report", "A tenant's monthly SLA report: uptime per instance and the credit owed"
    );
    report->add_option("--tenant", o->tenant, "Tenant id (ten_...)")->required();
    report->add_option("--month", o->month, "YYYY-MM (UTC)")->required();
    report->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r = CallOrExit(
            client,
            "GET",
            "/v1/tenants/" + UrlEncode(o->tenant) + "/sla?month=" + UrlEncode(o->month)
        );
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        fmt::print(
            "SLA report for {} from {} to {}\n", At(r, "tenant"), At(r, "from"), At(r, "to")
        );
        fmt::print(
            "{}",
            RenderTable(
                r.at("instances").as_array(),
                {{"INSTANCE", "instance"},
                 {"NAME", "name"},
                 {"PRODUCT", "product"},
                 {"PLAN", "plan"},
                 {"UPTIME %", "uptime_percent"},
                 {"TARGET %", "sla_target_percent"},
                 {"MET", "met"},
                 {"DOWN MIN", "down_minutes"},
                 {"MAINT MIN", "maintenance_minutes"},
                 {"UNMONITORED MIN", "unmonitored_minutes"},
                 {"CREDIT %", "credit_percent"}}
            )
        );
    });
}

std::string HandoffMarkdown(const json::value& r);

void AddOnCall(CLI::App& app, Globals& g) {
    CLI::App* oncall = app.add_subcommand("oncall", "Who is on call");
    oncall->require_subcommand(1);
    struct Opts {
        std::string schedule, at, tenant;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* who = oncall->add_subcommand(
        "who", "Who is on call now (or --at a time) and who is next, per schedule"
    );
    who->add_option("--schedule", o->schedule, "Only this schedule (by name)");
    who->add_option("--at", o->at, "Another time than now (RFC 3339)");
    who->add_option("--tenant", o->tenant, "Platform admins: whose schedules (ten_...)");
    who->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r = CallOrExit(
            client,
            "GET",
            "/v1/oncall/now" +
                Query({{"schedule", o->schedule}, {"at", o->at}, {"tenant", o->tenant}})
        );
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        fmt::print(
            "{}",
            RenderTable(
                r.at("schedules").as_array(),
                {{"SCHEDULE", "schedule"},
                 {"ON CALL", "on_call.user"},
                 {"LAYER", "on_call.layer"},
                 {"UNTIL", "on_call.end"},
                 {"NEXT", "next.user"},
                 {"FROM", "next.start"}}
            )
        );
    });
    auto h = std::make_shared<Opts>();
    CLI::App* handoff = oncall->add_subcommand(
        "handoff",
        "The shift hand-off as Markdown: open incidents, noisy alerts, silences, rollouts, "
        "maintenance"
    );
    handoff->add_option(
        "--from", h->schedule, "Start of the shift (RFC 3339; default 12 hours before --to)"
    );
    handoff->add_option("--to", h->at, "End of the shift (RFC 3339; default now)");
    handoff->add_option("--tenant", h->tenant, "Platform admins: whose hand-off (ten_...)");
    handoff->callback([&g, h] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r = CallOrExit(
            client,
            "GET",
            "/v1/oncall/handoff" +
                Query({{"from", h->schedule}, {"to", h->at}, {"tenant", h->tenant}})
        );
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        fmt::print("{}", HandoffMarkdown(r));
    });
}

// The hand-off report as Markdown, to paste into the shift channel.
std::string HandoffMarkdown(const json::value& r) {
    std::string md =
        fmt::format("# Hand-off {} → {}\n\n## Open incidents\n\n", At(r, "from"), At(r, "to"));
    auto list = [&](const char* key) -> const json::array& {
        return r.at(key).as_array();
    };
    if (list("open_incidents").empty()) {
        md += "None.\n";
    }
    for (const auto& i : list("open_incidents")) {
        md += fmt::format(
            "- **{}** {} ({}, lead {}): next: {}\n",
            At(i, "severity"),
            At(i, "title"),
            At(i, "status"),
            At(i, "lead").empty() ? "none" : At(i, "lead"),
            At(i, "next_step")
        );
    }
    md += "\n## Alerts that fired (noisiest first)\n\n";
    if (list("alerts").empty()) {
        md += "None.\n";
    }
    for (const auto& a : list("alerts")) {
        md += fmt::format(
            "- {}× {} {} ({}, last {}): {}\n",
            At(a, "fired"),
            At(a, "alertname"),
            At(a, "instance"),
            At(a, "state"),
            At(a, "last_fired"),
            At(a, "summary")
        );
    }
    md += "\n## Active silences\n\n";
    if (list("silences").empty()) {
        md += "None.\n";
    }
    for (const auto& s : list("silences")) {
        md += fmt::format(
            "- {} by {} until {}: {}\n",
            At(s, "name"),
            At(s, "author"),
            At(s, "ends_at"),
            At(s, "comment")
        );
    }
    md += "\n## Rollouts in flight\n\n";
    if (list("rollouts_in_flight").empty()) {
        md += "None.\n";
    }
    for (const auto& o : list("rollouts_in_flight")) {
        md += fmt::format(
            "- {}: {} to {}, {} ({}/{})\n",
            At(o, "name"),
            At(o, "product"),
            At(o, "target_version"),
            At(o, "phase"),
            At(o, "upgraded"),
            At(o, "total")
        );
    }
    md += "\n## Maintenance coming up\n\n";
    if (list("maintenance").empty()) {
        md += "None.\n";
    }
    for (const auto& m : list("maintenance")) {
        md += fmt::format(
            "- {} {} → {}: {}{}\n",
            At(m, "name"),
            At(m, "starts_at"),
            At(m, "ends_at"),
            At(m, "reason"),
            At(m, "active") == "true" ? " (now)" : ""
        );
    }
    return md;
}

void AddPage(CLI::App& app, Globals& g) {
    CLI::App* page = app.add_subcommand("page", "Act on pages (get pages lists them)");
    page->require_subcommand(1);
    struct Opts {
        std::string id, to;
    };
    auto o = std::make_shared<Opts>();
    for (const char* action : {"ack", "resolve", "reassign"}) {
        std::string name = action;
        CLI::App* cmd = page->add_subcommand(
            name,
            name == "ack"       ? "Acknowledge a page: its escalation stops"
            : name == "resolve" ? "Resolve a page"
                                : "Give a page to another user, who is notified"
        );
        cmd->add_option("id", o->id, "Page id (pag_...)")->required();
        if (name == "reassign") {
            cmd->add_option("--to", o->to, "User name")->required();
        }
        cmd->callback([&g, o, name] {
            ClientConfig cfg = Resolve(g);
            Client client(cfg);
            std::string path =
                "/v1/pages/" + UrlEncode(o->id) + ":" + (name == "ack" ? "acknowledge" : name);
            std::string body =
                name == "reassign" ? json::serialize(json::object{{"user", o->to}}) : "";
            Print(cfg, CallOrExit(client, "POST", path, body), ColumnsAfterWrite(client, "pages"));
        });
    }
}

void AddWorkspace(CLI::App& app, Globals& g) {
    CLI::App* ws = app.add_subcommand(
        "workspace",
        "Workspace cloud services: registrations, tokens, secrets, statistics (get workspaces "
        "lists them)"
    );
    ws->require_subcommand(1);
    struct Opts {
        std::string code, name, tenant, id, ttl;
    };
    auto o = std::make_shared<Opts>();
    for (const char* verb : {"approve", "reject"}) {
        std::string v = verb;
        CLI::App* cmd = ws->add_subcommand(
            v,
            v == "approve"
                ? "Approve a device-flow registration by the user code the workspace shows"
                : "Reject a device-flow registration"
        );
        cmd->add_option("user_code", o->code, "The code, such as BCDF-GHJK")->required();
        if (v == "approve") {
            cmd->add_option(
                "--name", o->name, "Name of the new workspace (default: from its site name)"
            );
            cmd->add_option("--tenant", o->tenant, "Tenant id (platform tokens must name one)");
        }
        cmd->callback([&g, o, v] {
            ClientConfig cfg = Resolve(g);
            Client client(cfg);
            json::object body{{"user_code", o->code}};
            if (!o->name.empty()) {
                body["name"] = o->name;
            }
            json::value r = CallOrExit(
                client,
                "POST",
                "/v1/workspaces:" + v + Query({{"tenant", o->tenant}}),
                json::serialize(body)
            );
            if (v == "approve") {
                Print(cfg, r, ColumnsAfterWrite(client, "workspaces"));
            } else {
                Print(cfg, r, {{"USER CODE", "user_code"}, {"STATE", "state"}});
            }
        });
    }
    CLI::App* pending = ws->add_subcommand(
        "pending", "Device-flow registrations waiting for approval (platform admins)"
    );
    pending->callback([&g] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(
            cfg,
            CallOrExit(client, "GET", "/v1/workspaces:pending", ""),
            {{"USER CODE", "user_code"},
             {"SITE", "site_name"},
             {"ADDRESS", "address"},
             {"CONTACT", "contact_email"},
             {"EXPIRES", "expires_at"}}
        );
    });
    CLI::App* token = ws->add_subcommand(
        "token", "Issue a one-time registration token for a workspace; printed once"
    );
    token->add_option("id", o->id, "Workspace id (wks_...)")->required();
    token->add_option("--ttl", o->ttl, "How long it may be used, such as 24h");
    token->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        std::string body = o->ttl.empty() ? "" : json::serialize(json::object{{"ttl", o->ttl}});
        json::value r = CallOrExit(
            client, "POST", "/v1/workspaces/" + UrlEncode(o->id) + ":registration-token", body
        );
        Print(cfg, r, {{"TOKEN", "token"}, {"EXPIRES", "expires_at"}});
    });
    CLI::App* rotate = ws->add_subcommand(
        "rotate",
        "Give a workspace a new client secret (printed once); the old one works for a grace period"
    );
    rotate->add_option("id", o->id, "Workspace id (wks_...)")->required();
    rotate->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r =
            CallOrExit(client, "POST", "/v1/workspaces/" + UrlEncode(o->id) + ":rotate-secret", "");
        Print(
            cfg,
            r,
            {{"CLIENT ID", "client_id"},
             {"CLIENT SECRET", "client_secret"},
             {"OLD SECRET UNTIL", "previous_secret_valid_until"}}
        );
    });
    CLI::App* fleet = ws->add_subcommand(
        "fleet", "The fleet as workspaces report it: version, seats, active users"
    );
    fleet->add_option("--tenant", o->tenant, "Only this tenant (platform tokens)");
    fleet->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r =
            CallOrExit(client, "GET", "/v1/statistics/fleet" + Query({{"tenant", o->tenant}}), "");
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        json::object rows{{"items", r.as_object().at("workspaces")}};
        Print(
            cfg,
            rows,
            {{"ID", "id"},
             {"NAME", "name"},
             {"TENANT", "tenant"},
             {"REGISTRATION", "registration"},
             {"VERSION", "version"},
             {"DEPLOY", "deploy_method"},
             {"SEATS", "seats"},
             {"ACTIVE", "active_users"},
             {"LAST REPORT", "last_report_at"}}
        );
    });
}

void AddUsage(CLI::App& app, Globals& g) {
    struct Opts {
        std::string meter, from, to, window, tz, feature;
        std::vector<std::string> subjects, groups;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* usage = app.add_subcommand(
        "usage", "A meter's usage (without a meter: the meters), from Hangar's metering"
    );
    usage->add_option("meter", o->meter, "The meter's slug");
    usage->add_option("--from", o->from, "RFC 3339 start (inclusive)");
    usage->add_option("--to", o->to, "RFC 3339 end (exclusive; default now)");
    usage->add_option("--window", o->window, "MINUTE, HOUR, DAY or MONTH")
        ->check(CLI::IsMember({"MINUTE", "HOUR", "DAY", "MONTH"}));
    usage->add_option("--tz", o->tz, "The windows' IANA time zone (default UTC)");
    usage->add_option("--subject", o->subjects, "Only this subject (tenant id); repeatable");
    usage->add_option("--group-by", o->groups, "subject or a meter group; repeatable");
    usage->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        if (o->meter.empty()) {
            json::value meters = CallOrExit(client, "GET", "/api/v1/meters", "");
            Print(
                cfg,
                json::object{{"items", meters}},
                {{"SLUG", "slug"},
                 {"EVENT TYPE", "eventType"},
                 {"AGGREGATION", "aggregation"},
                 {"VALUE", "valueProperty"},
                 {"DESCRIPTION", "description"}}
            );
            return;
        }
        std::vector<std::pair<std::string, std::string>> q = {
            {"from", o->from}, {"to", o->to}, {"windowSize", o->window}, {"windowTimeZone", o->tz}};
        for (const auto& s : o->subjects) {
            q.emplace_back("subject", s);
        }
        for (const auto& gb : o->groups) {
            q.emplace_back("groupBy", gb);
        }
        json::value r = CallOrExit(
            client, "GET", "/api/v1/meters/" + UrlEncode(o->meter) + "/query" + Query(q), ""
        );
        // One row per window, subject and group; the group as "k=v,...".
        json::array rows;
        for (const auto& row : r.at("data").as_array()) {
            json::object x = row.as_object();
            std::string group;
            for (const auto& [k, v] : row.at("groupBy").as_object()) {
                group += (group.empty() ? "" : ",") + std::string(k) + "=" +
                         (v.is_string() ? std::string(v.as_string()) : "-");
            }
            x["group"] = group;
            rows.push_back(std::move(x));
        }
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        Print(
            cfg,
            json::object{{"items", rows}},
            {{"WINDOW START", "windowStart"},
             {"WINDOW END", "windowEnd"},
             {"SUBJECT", "subject"},
             {"GROUP", "group"},
             {"VALUE", "value"}}
        );
    });
    CLI::App* ent = app.add_subcommand("entitlement", "Entitlements (metering)");
    ent->require_subcommand(1);
    CLI::App* check =
        ent->add_subcommand("check", "Whether a tenant has a feature, and its balance");
    check->add_option("feature", o->feature, "The feature's key")->required();
    check->add_option("--subject", o->meter, "The tenant (platform admins; default yours)");
    check->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(
            cfg,
            CallOrExit(
                client,
                "GET",
                "/v1/entitlements/check" + Query({{"feature", o->feature}, {"subject", o->meter}}),
                ""
            ),
            {{"FEATURE", "feature"},
             {"SUBJECT", "subject"},
             {"ACCESS", "hasAccess"},
             {"BALANCE", "balance"},
             {"USAGE", "usage"},
             {"OVERAGE", "overage"}}
        );
    });
}

void AddBilling(CLI::App& app, Globals& g) {
    struct Opts {
        std::string id, tenant, state, month, out;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* inv = app.add_subcommand("invoice", "Invoices: list, show, approve, void, pdf");
    inv->require_subcommand(1);
    CLI::App* list = inv->add_subcommand("list", "List invoices (newest period first)");
    list->add_option("--tenant", o->tenant, "Only this tenant's (platform admins)");
    list->add_option("--state", o->state, "Only in this state")
        ->check(CLI::IsMember({"draft", "issued", "paid", "void"}));
    list->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r = CallOrExit(
            client, "GET", "/v1/invoices" + Query({{"tenant", o->tenant}, {"limit", "1000"}}), ""
        );
        json::array items;
        for (const auto& i : r.at("items").as_array()) {
            if (o->state.empty() || At(i, "status.state") == o->state) {
                items.push_back(i);
            }
        }
        std::stable_sort(
            items.begin(),
            items.end(),
            [](const json::value& a, const json::value& b) {
                return At(a, "spec.period_start") > At(b, "spec.period_start");
            }
        );
        Print(
            cfg,
            json::object{{"items", items}},
            {{"ID", "metadata.id"},
             {"NUMBER", "spec.number"},
             {"TENANT", "metadata.tenant"},
             {"PERIOD START", "spec.period_start"},
             {"PERIOD END", "spec.period_end"},
             {"TOTAL", "spec.total"},
             {"CURRENCY", "spec.currency"},
             {"STATE", "status.state"}}
        );
    });
    CLI::App* show = inv->add_subcommand("show", "An invoice's lines and totals");
    show->add_option("id", o->id, "The invoice's id")->required();
    show->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r = CallOrExit(client, "GET", "/v1/invoices/" + UrlEncode(o->id), "");
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        std::cout << fmt::format(
            "Invoice {} ({})  {} to {}\n",
            At(r, "spec.number"),
            At(r, "status.state"),
            At(r, "spec.period_start"),
            At(r, "spec.period_end")
        );
        Print(
            cfg,
            json::object{{"items", r.at("spec").at("lines")}},
            {{"DESCRIPTION", "description"},
             {"FROM", "period_start"},
             {"TO", "period_end"},
             {"QUANTITY", "quantity"},
             {"UNIT PRICE", "unit_price"},
             {"AMOUNT", "amount"}}
        );
        std::cout << fmt::format(
            "Subtotal {}  Credits {}  {} ({}%) {}  Total {} {}\n",
            At(r, "spec.subtotal"),
            At(r, "spec.credits"),
            At(r, "spec.tax.name"),
            At(r, "spec.tax.rate_percent"),
            At(r, "spec.tax.amount"),
            At(r, "spec.total"),
            At(r, "spec.currency")
        );
    });
    for (const char* action : {"approve", "void"}) {
        CLI::App* c = inv->add_subcommand(
            action,
            std::string(action) == "approve" ? "Issue a draft invoice (and collect it)"
                                             : "Void a draft or issued invoice"
        );
        c->add_option("id", o->id, "The invoice's id")->required();
        c->callback([&g, o, action] {
            ClientConfig cfg = Resolve(g);
            Client client(cfg);
            Print(
                cfg,
                CallOrExit(client, "POST", "/v1/invoices/" + UrlEncode(o->id) + ":" + action, ""),
                {{"ID", "metadata.id"},
                 {"NUMBER", "spec.number"},
                 {"TOTAL", "spec.total"},
                 {"STATE", "status.state"}}
            );
        });
    }
    CLI::App* pdf = inv->add_subcommand("pdf", "Download an invoice as a PDF");
    pdf->add_option("id", o->id, "The invoice's id")->required();
    pdf->add_option("-f,--file", o->out, "Where to write it (default <number>.pdf)");
    pdf->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value inv = CallOrExit(client, "GET", "/v1/invoices/" + UrlEncode(o->id), "");
        auto r = client.Text("/v1/invoices/" + UrlEncode(o->id) + "/pdf");
        if (!r) {
            Exit(r.error());
        }
        std::string path = o->out.empty() ? At(inv, "spec.number") + ".pdf" : o->out;
        std::ofstream f(path, std::ios::binary);
        f << r->body;
        if (!f) {
            Exit(core::MakeError(core::ErrorCode::kInvalidArgument, "cannot write " + path));
        }
        std::cout << path << "\n";
    });
    CLI::App* billing = app.add_subcommand("billing", "Billing reports (platform admins)");
    billing->require_subcommand(1);
    CLI::App* margin = billing->add_subcommand(
        "margin", "Cost, revenue and margin per tenant, least profitable first"
    );
    margin->add_option("--month", o->month, "YYYY-MM")->required();
    margin->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value r =
            CallOrExit(client, "GET", "/v1/billing/margin" + Query({{"month", o->month}}), "");
        if (cfg.output != "table") {
            Print(cfg, r, {});
            return;
        }
        Print(
            cfg,
            json::object{{"items", r.at("tenants")}},
            {{"TENANT", "tenant"},
             {"NAME", "name"},
             {"REVENUE", "revenue"},
             {"COST", "cost"},
             {"MARGIN", "margin"},
             {"MARGIN %", "margin_percent"},
             {"CURRENCY", "currency"}}
        );
        if (!r.at("unit_costs_missing").as_array().empty()) {
            std::cerr << "note: no unit cost set for " << RenderJson(r.at("unit_costs_missing"));
        }
    });
}

void AddApp(CLI::App& app, Globals& g) {
    CLI::App* apps =
        app.add_subcommand("app", "Publish and manage marketplace apps (platform admins)");
    apps->require_subcommand(1);
    struct Opts {
        std::string file, tenant, name;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* publish = apps->add_subcommand("publish", "Upload an Apps-Engine package (.zip)");
    publish->add_option("file", o->file, "The package")->required()->check(CLI::ExistingFile);
    publish->add_option("--tenant", o->tenant, "Make the app private to this tenant (ten_...)");
    publish->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        std::ifstream in(o->file, std::ios::binary);
        std::string zip((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        json::value r = CallOrExit(
            client,
            "POST",
            "/v1/apps:publish" + Query({{"tenant", o->tenant}}),
            zip,
            {"Content-Type: application/zip"}
        );
        json::object row{
            {"app", r.at("app").at("metadata").at("name")},
            {"version", r.at("release").at("spec").at("version")},
            {"sha256", r.at("release").at("status").at("sha256")},
            {"release", r.at("release").at("metadata").at("id")}};
        Print(
            cfg,
            row,
            {{"APP", "app"}, {"VERSION", "version"}, {"RELEASE", "release"}, {"SHA256", "sha256"}}
        );
    });
    CLI::App* list = apps->add_subcommand("list", "List the apps");
    list->callback([&g] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        Print(
            cfg,
            CallOrExit(client, "GET", "/v1/apps?limit=1000", ""),
            {{"ID", "metadata.id"},
             {"NAME", "metadata.name"},
             {"APP ID", "status.app_id"},
             {"PRICE", "spec.price"},
             {"YANKED", "spec.yanked"},
             {"INSTALLS", "status.active_installs"}}
        );
    });
    CLI::App* versions = apps->add_subcommand("versions", "List an app's published versions");
    versions->add_option("name", o->name, "The app's name (its slug)")->required();
    versions->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        json::value all = CallOrExit(client, "GET", "/v1/appreleases?limit=1000", "");
        json::array mine;
        for (const auto& r : all.at("items").as_array()) {
            if (r.at("spec").at("name_slug") == json::value(o->name)) {
                mine.push_back(r);
            }
        }
        Print(
            cfg,
            json::object{{"items", mine}},
            {{"ID", "metadata.id"},
             {"VERSION", "spec.version"},
             {"ENGINE", "spec.required_api_version"},
             {"SIZE", "status.size"},
             {"DOWNLOADS", "status.downloads"},
             {"PUBLISHED", "metadata.created_at"}}
        );
    });
    CLI::App* yank = apps->add_subcommand(
        "yank", "Withdraw an app from the marketplace, or with --version one of its versions"
    );
    yank->add_option("name", o->name, "The app's name (its slug) or id (app_...)")->required();
    yank->add_option("--version", o->file, "Only this version");
    yank->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        if (!o->file.empty()) {
            json::value all = CallOrExit(client, "GET", "/v1/appreleases?limit=1000", "");
            for (const auto& r : all.at("items").as_array()) {
                if (r.at("spec").at("name_slug") == json::value(o->name) &&
                    r.at("spec").at("version") == json::value(o->file)) {
                    std::string id(r.at("metadata").at("id").as_string());
                    json::value y = CallOrExit(
                        client, "POST", "/v1/appreleases/" + UrlEncode(id) + ":yank", ""
                    );
                    Print(
                        cfg,
                        y,
                        {{"ID", "metadata.id"},
                         {"VERSION", "spec.version"},
                         {"YANKED", "spec.yanked"}}
                    );
                    return;
                }
            }
            Exit(core::MakeError(
                core::ErrorCode::kNotFound,
                fmt::format("app {} has no version {}", o->name, o->file)
            ));
        }
        std::string id = o->name;
        if (!id.starts_with("app_")) {
            json::value all = CallOrExit(client, "GET", "/v1/apps?limit=1000", "");
            id.clear();
            for (const auto& a : all.at("items").as_array()) {
                if (a.at("metadata").at("name") == json::value(o->name)) {
                    id = std::string(a.at("metadata").at("id").as_string());
                }
            }
            if (id.empty()) {
                Exit(core::MakeError(
                    core::ErrorCode::kNotFound, fmt::format("there is no app named {}", o->name)
                ));
            }
        }
        json::value r = CallOrExit(client, "POST", "/v1/apps/" + UrlEncode(id) + ":yank", "");
        Print(
            cfg, r, {{"ID", "metadata.id"}, {"NAME", "metadata.name"}, {"YANKED", "spec.yanked"}}
        );
    });
}

void AddRollout(CLI::App& app, Globals& g) {
    CLI::App* rollout = app.add_subcommand("rollout", "Follow rollouts");
    rollout->require_subcommand(1);
    struct Opts {
        std::string id;
        bool watch = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* st = rollout->add_subcommand(
        "status", "A rollout's progress; --watch draws it live until it ends"
    );
    st->add_option("id", o->id, "Rollout id (rol_...)")->required();
    st->add_flag(
        "-w,--watch", o->watch, "Keep drawing until the rollout completes, halts or is aborted"
    );
    st->callback([&g, o] {
        ClientConfig cfg = Resolve(g);
        Client client(cfg);
        bool tty = ::isatty(1) != 0;
        for (int i = 0;; ++i) {
            json::value r = CallOrExit(client, "GET", "/v1/rollouts/" + UrlEncode(o->id));
            std::string phase = At(r, "status.phase");
            long total = std::atol(At(r, "status.total").c_str());
            long done = std::atol(At(r, "status.upgraded").c_str());
            if (cfg.output != "table") {
                Print(cfg, r, {});
            } else {
                constexpr int kWidth = 30;
                int filled = total > 0 ? static_cast<int>(kWidth * done / total)
                                       : (phase == "Completed" ? kWidth : 0);
                std::string bar = std::string(static_cast<size_t>(filled), '#') +
                                  std::string(static_cast<size_t>(kWidth - filled), '.');
                fmt::print(
                    "{}{} [{}] {}/{} to {}, wave {}: {}{}",
                    tty && i > 0 ? "\r\x1b[K" : "",
                    At(r, "metadata.name"),
                    bar,
                    done,
                    total,
                    At(r, "spec.target_version"),
                    At(r, "status.current_wave"),
                    phase.empty() ? "Pending" : phase,
                    At(r, "status.message").empty() ? "" : " (" + At(r, "status.message") + ")"
                );
                std::fputs(tty && o->watch ? "" : "\n", stdout);
                std::fflush(stdout);
            }
            bool ended = phase == "Completed" || phase == "Halted" || phase == "Aborted";
            if (!o->watch || ended) {
                if (tty && o->watch) {
                    fmt::print("\n");
                }
                if (phase == "Halted") {
                    throw CLI::RuntimeError(12);
                }
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    });
}

void AddPlanApply(CLI::App& app, Globals& g) {
    struct Opts {
        std::vector<std::string> files;
        bool prune = false;
        std::string selector;
    };
    for (bool apply : {false, true}) {
        auto o = std::make_shared<Opts>();
        CLI::App* cmd = app.add_subcommand(
            apply ? "apply" : "plan",
            apply ? "Make the fleet match YAML files (create, update, and with --prune delete)"
                  : "Show what `apply` would create, change or delete"
        );
        cmd->add_option("-f,--file", o->files, "YAML file(s), several documents each")
            ->required()
            ->check(CLI::ExistingFile);
        cmd->add_flag("--prune", o->prune, "Delete objects matching -l that are not in the files");
        cmd->add_option(
            "-l,--selector",
            o->selector,
            "With --prune: which objects the files own, e.g. managed-by=fleet-repo"
        );
        cmd->callback([&g, o, apply] {
            if (o->prune && o->selector.empty()) {
                Exit(core::MakeError(
                    core::ErrorCode::kInvalidArgument,
                    "--prune needs -l <selector>: it deletes only objects with those labels"
                ));
            }
            ClientConfig cfg = Resolve(g);
            Client client(cfg);
            int code = PlanOrApply(client, o->files, apply, o->prune, o->selector);
            if (code != 0) {
                throw CLI::RuntimeError(code);
            }
        });
    }
}

}  // namespace

void AddClientCommands(CLI::App& app) {
    static Globals g;
    app.add_option("--server", g.server, "Hangar server URL (default http://127.0.0.1:8080)")
        ->envname("HANGAR_SERVER");
    app.add_option("--token", g.token, "API token")->envname("HANGAR_TOKEN");
    app.add_option("-o,--output", g.output, "table, json or yaml")
        ->check(CLI::IsMember({"table", "json", "yaml"}));
    app.add_option(
           "--client-config", g.config, "CLI config file (default ~/.config/hangar/config.yaml)"
    )
        ->envname("HANGAR_CLI_CONFIG");
    AddTenant(app, g);
    AddToken(app, g);
    AddGetDelete(app, g);
    AddAudit(app, g);
    AddLogsAndDescribe(app, g);
    AddPlanApply(app, g);
    AddRollout(app, g);
    AddSla(app, g);
    AddOnCall(app, g);
    AddPage(app, g);
    AddWorkspace(app, g);
    AddApp(app, g);
    AddUsage(app, g);
    AddBilling(app, g);
}

}  // namespace hangar::cli
