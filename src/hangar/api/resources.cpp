#include "hangar/api/resources.hpp"

#include <array>
#include <charconv>
#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/fleet/instance_logs.hpp"
#include "hangar/fleet/provisioner.hpp"
#include "hangar/store/selector.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;
using core::ObjectReader;

namespace {

constexpr int64_t kMaxLimit = 1000;

Result<void> CheckId(const registry::Kind& kind, std::string_view id) {
    if (!core::IsValidId(id, kind.prefix)) {
        core::Error e = core::MakeError(
            ErrorCode::kInvalidArgument,
            fmt::format(
                R"("{}" is not a {} id ("{}_" followed by 20 characters))",
                id.substr(0, 64),
                kind.name,
                kind.prefix
            )
        );
        e.With("field", "id");
        return Fail(std::move(e));
    }
    return {};
}

Result<store::Labels> ReadLabels(ObjectReader& md) {
    auto labels = md.StringMap("labels");
    if (!md.ok()) {
        return Fail(md.Finish().error());
    }
    if (!labels) {
        return store::Labels{};
    }
    if (labels->size() > 64) {
        return Fail(core::FieldError("metadata.labels", "at most 64 labels"));
    }
    for (const auto& [k, v] : *labels) {
        if (!store::IsValidLabelKey(k)) {
            return Fail(core::FieldError(
                "metadata.labels", fmt::format("invalid label key \"{}\"", k.substr(0, 80))
            ));
        }
        if (!store::IsValidLabelValue(v)) {
            return Fail(core::FieldError(
                fmt::format("metadata.labels.{}", k),
                "must be at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends"
            ));
        }
    }
    return *labels;
}

// "5", "\"5\"" or W/"5" → 5.
Result<std::optional<int64_t>> IfMatch(const http::Request& req) {
    std::string_view v = req.Header("if-match");
    if (v.empty()) {
        return std::optional<int64_t>();
    }
    if (v.starts_with("W/")) {
        v.remove_prefix(2);
    }
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
    }
    int64_t n = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n < 1) {
        core::Error e = core::MakeError(
            ErrorCode::kInvalidArgument,
            "If-Match must be an object revision, e.g. \"If-Match: 42\""
        );
        e.With("field", "If-Match");
        return Fail(std::move(e));
    }
    return std::optional<int64_t>(n);
}

http::Response ObjectResponse(int status, const store::Object& o) {
    http::Response r = RawJsonResponse(status, store::ObjectToDoc(o));
    r.headers.emplace_back("etag", fmt::format("\"{}\"", o.revision));
    return r;
}

// A tenant's caller may not set a platform field (create), nor change one (update); one it
// leaves out keeps its current value, so that a customer's PUT cannot drop its own plan.
Result<void> GuardPlatformFields(
    const registry::Kind& kind,
    const auth::Principal& who,
    json::object& spec,
    const json::object* current
) {
    if (who.IsAdmin()) {
        return {};
    }
    for (const std::string& field : kind.platform_fields) {
        const json::value* now = current != nullptr ? current->if_contains(field) : nullptr;
        const json::value* asked = spec.if_contains(field);
        if (asked == nullptr) {
            if (now != nullptr) {
                spec[field] = *now;
            }
            continue;
        }
        if (now == nullptr || *now != *asked) {
            core::Error e = core::MakeError(
                ErrorCode::kForbidden,
                fmt::format(
                    "spec.{}: only a platform admin may set a {}'s {}", field, kind.name, field
                )
            );
            e.With("field", "spec." + field);
            return Fail(std::move(e));
        }
    }
    return {};
}

// The tenant a new object belongs to.
Result<std::string> CreateTenant(
    Deps& deps,
    const registry::Kind& kind,
    const auth::Principal& who,
    const std::optional<std::string>& asked
) {
    if (!who.IsAdmin()) {
        if (asked && *asked != who.tenant) {
            return Fail(core::FieldError(
                "metadata.tenant", "a tenant token can only create objects in its own tenant"
            ));
        }
        return who.tenant;
    }
    if (!asked) {
        return Fail(core::FieldError(
            "metadata.tenant",
            fmt::format(
                "is required: a platform admin must say which tenant the {} belongs to", kind.name
            )
        ));
    }
    if (!core::IsValidId(*asked, "ten")) {
        return Fail(core::FieldError("metadata.tenant", "is not a tenant id"));
    }
    auto t = deps.store.Get(*asked);
    if (!t || t->kind != "Tenant") {
        return Fail(
            core::FieldError("metadata.tenant", fmt::format("tenant {} does not exist", *asked))
        );
    }
    return *asked;
}

Result<http::Response> Create(Deps& deps, const registry::Kind& kind, Call& c) {
    if (kind.admin_creates && !c.who.IsAdmin()) {
        return Fail(Forbidden(fmt::format("only platform admins create {}s", kind.name)));
    }
    if (auto r = RequireRole(c.who, kind.write_role, fmt::format("creating a {}", kind.name)); !r) {
        return Fail(r.error());
    }
    auto body = BodyObject(c.req);
    if (!body) {
        return Fail(body.error());
    }
    ObjectReader top(*body, "");
    const json::object* md_obj = top.Object("metadata", /*required=*/true);
    const json::object* spec_obj = top.Object("spec");
    if (top.Any("status") != nullptr) {
        top.SetError("status", "is read-only: Hangar's controllers write it");
    }
    if (auto r = top.Finish(); !r) {
        return Fail(r.error());
    }
    ObjectReader md(*md_obj, "metadata");
    auto name = md.String("name", /*required=*/true);
    auto tenant = md.String("tenant");
    auto labels = ReadLabels(md);
    if (!labels) {
        return Fail(labels.error());
    }
    if (auto r = md.Finish(); !r) {
        return Fail(r.error());
    }
    if (!core::IsDnsLabel(*name)) {
        return Fail(core::FieldError(
            "metadata.name",
            "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or "
            "digit"
        ));
    }
    auto spec = kind.validate(spec_obj != nullptr ? *spec_obj : json::object());
    if (!spec) {
        return Fail(spec.error());
    }
    if (auto g = GuardPlatformFields(kind, c.who, *spec, nullptr); !g) {
        return Fail(g.error());
    }

    store::Object o;
    o.kind = kind.name;
    o.id = core::NewId(kind.prefix);
    o.name = *name;
    o.labels = std::move(*labels);
    o.spec = std::move(*spec);
    o.created_at = c.now;
    o.updated_at = c.now;
    if (kind.scope == registry::Scope::kTenant) {
        auto t = CreateTenant(deps, kind, c.who, tenant);
        if (!t) {
            return Fail(t.error());
        }
        o.tenant = *t;
    } else {
        if (tenant) {
            return Fail(core::FieldError("metadata.tenant", "is set by Hangar for this kind"));
        }
        o.tenant = kind.scope == registry::Scope::kSelf ? o.id : "";
    }
    registry::AdmissionHold admission;
    if (kind.admit) {
        auto held = kind.admit(o);
        if (!held) {
            return Fail(held.error());
        }
        admission = std::move(*held);
    }

    std::optional<store::Idempotency> idem;
    if (std::string_view key = c.req.Header("idempotency-key"); !key.empty()) {
        if (key.size() > 255) {
            return Fail(core::FieldError("Idempotency-Key", "must be at most 255 characters"));
        }
        idem = store::Idempotency{
            c.who.token_id,
            std::string(key),
            core::Sha256Hex(fmt::format("{} {}\n{}", c.req.method, c.req.path, c.req.body))};
    }
    c.audit.object = o.id;
    c.audit.tenant = o.tenant;
    auto created = deps.store.Create(o, idem, c.audit);
    c.audited = true;
    if (!created) {
        return Fail(created.error());
    }
    http::Response r = ObjectResponse(201, created->object);
    r.headers.emplace_back("location", fmt::format("/v1/{}/{}", kind.plural, created->object.id));
    if (created->replayed) {
        r.headers.emplace_back("idempotent-replayed", "true");
    }
    return r;
}

Result<http::Response>
Watch(Deps& deps, const registry::Kind& kind, Call& c, WatchHub& hub, store::Selector sel) {
    int64_t since = 0;
    auto q = QueryInt(c.req, "since", 0, INT64_MAX);
    if (!q) {
        return Fail(q.error());
    }
    std::string_view last_id = c.req.Header("last-event-id");
    auto current = deps.store.CurrentRevision();
    if (!current) {
        return Fail(current.error());
    }
    if (*q) {
        since = **q;
    } else if (!last_id.empty()) {
        auto r = std::from_chars(last_id.data(), last_id.data() + last_id.size(), since);
        if (r.ec != std::errc() || since < 0) {
            return Fail(core::FieldError("Last-Event-ID", "must be a revision"));
        }
    } else {
        since = *current;
    }
    if (since > *current) {
        return Fail(core::FieldError(
            "since", fmt::format("revision {} is ahead of the store (at {})", since, *current)
        ));
    }
    if (auto probe = deps.store.ChangesAfter(since, 1); !probe) {
        return Fail(probe.error());
    }
    std::optional<std::string> tenant;
    if (kind.scope == registry::Scope::kPlatform) {
        tenant = "";
    } else if (!c.who.IsAdmin()) {
        tenant = c.who.tenant;
    }
    auto w = std::make_shared<Watcher>();
    w->cursor = since;
    w->wants = [kind = kind.name, tenant, sel = std::move(sel)](const store::Change& ch) {
        if (ch.kind != kind || (tenant && ch.tenant != *tenant)) {
            return false;
        }
        if (sel.empty()) {
            return true;
        }
        auto o = store::ObjectFromDoc(ch.doc);
        return o && sel.Matches(o->labels);
    };
    http::Response r;
    r.content_type = "text/event-stream";
    r.stream = [&hub, w, since](std::shared_ptr<http::StreamSink> sink) {
        sink->Send(fmt::format("retry: 2000\n: watching from revision {}\n\n", since));
        w->sink = std::move(sink);
        hub.Add(w);
    };
    return r;
}

Result<http::Response> List(Deps& deps, const registry::Kind& kind, Call& c, WatchHub& hub) {
    if (auto r = KnownQuery(c.req, {"selector", "limit", "cursor", "watch", "since", "tenant"});
        !r) {
        return Fail(r.error());
    }
    auto sel = store::Selector::Parse(c.req.Query("selector").value_or(""));
    if (!sel) {
        return Fail(sel.error());
    }
    auto watch = c.req.Query("watch");
    if (watch && *watch != "0" && *watch != "false") {
        if (*watch != "1" && *watch != "true") {
            return Fail(core::FieldError("watch", "must be 1 or true"));
        }
        return Watch(deps, kind, c, hub, std::move(*sel));
    }
    auto limit = QueryInt(c.req, "limit", 1, kMaxLimit);
    if (!limit) {
        return Fail(limit.error());
    }
    store::ListQuery q;
    q.kind = kind.name;
    q.limit = static_cast<size_t>(limit->value_or(100));
    if (auto cur = c.req.Query("cursor")) {
        std::string decoded;
        if (!core::Base64UrlDecode(*cur, decoded) || !core::IsValidId(decoded, kind.prefix)) {
            return Fail(core::FieldError("cursor", "is not a cursor this list handed out"));
        }
        q.after_id = decoded;
    }
    auto tenant_filter = c.req.Query("tenant");
    if (!c.who.IsAdmin()) {
        if (tenant_filter && *tenant_filter != c.who.tenant) {
            return Fail(core::FieldError("tenant", "a tenant token can only list its own tenant"));
        }
        q.tenant = c.who.tenant;
    } else if (tenant_filter) {
        q.tenant = *tenant_filter;
    }
    if (kind.scope == registry::Scope::kPlatform) {
        q.tenant = "";  // one catalogue for everyone
    } else if (kind.scope == registry::Scope::kSelf && q.tenant) {
        // Tenants are their own tenant: filter by id instead.
        std::string only = *q.tenant;
        q.tenant.reset();
        q.filter = [only](const store::Object& o) {
            return o.id == only;
        };
    }
    if (!sel->empty()) {
        auto prev = q.filter;
        q.filter = [prev, s = *sel](const store::Object& o) {
            return (!prev || prev(o)) && s.Matches(o.labels);
        };
    }
    auto res = deps.store.List(q);
    if (!res) {
        return Fail(res.error());
    }
    json::array items;
    for (const auto& o : res->items) {
        items.push_back(store::ObjectToJson(o));
    }
    json::object out;
    out["kind"] = kind.name + "List";
    out["items"] = std::move(items);
    out["revision"] = res->revision;
    if (!res->next_after_id.empty()) {
        out["next_cursor"] = core::Base64UrlEncode(res->next_after_id);
    } else {
        out["next_cursor"] = nullptr;
    }
    return JsonResponse(200, out);
}

// The object a write names in its URL, visible to the caller; the audit event names it too.
Result<store::Object>
TargetOf(Deps& deps, const registry::Kind& kind, Call& c, const std::string& id) {
    if (auto r = CheckId(kind, id); !r) {
        return Fail(r.error());  // a malformed id is not written into the audit log
    }
    c.audit.object = id;
    auto current = GetVisible(deps, kind, c.who, id);
    if (current) {
        c.audit.tenant = current->tenant;
    }
    return current;
}

// Everything a write to /v1/{kind}/{id} checks before it changes anything: the object exists
// for this caller (else 404, audited by id), the caller's role allows the write, and If-Match
// parses. `admin_only` adds the platform-admin requirement (deleting a tenant).
struct WriteTarget {
    store::Object current;
    std::optional<int64_t> if_match;
};

Result<WriteTarget> PrepareWrite(
    Deps& deps,
    const registry::Kind& kind,
    Call& c,
    const std::string& id,
    std::string_view verb,
    bool admin_only
) {
    auto current = TargetOf(deps, kind, c, id);
    if (!current) {
        return Fail(current.error());
    }
    if (admin_only && !c.who.IsAdmin()) {
        return Fail(Forbidden(fmt::format("only platform admins {} {}s", verb, kind.name)));
    }
    if (auto r = RequireRole(
            c.who,
            kind.write_role,
            fmt::format("{} a {}", verb == "delete" ? "deleting" : "changing", kind.name)
        );
        !r) {
        return Fail(r.error());
    }
    auto if_match = IfMatch(c.req);
    if (!if_match) {
        return Fail(if_match.error());
    }
    return WriteTarget{std::move(*current), *if_match};
}

Result<http::Response> Update(Deps& deps, const registry::Kind& kind, Call& c) {
    std::string id(c.req.Param("id"));
    auto target = PrepareWrite(deps, kind, c, id, "change", false);
    if (!target) {
        return Fail(target.error());
    }
    const store::Object* current = &target->current;
    std::optional<int64_t> if_match = target->if_match;
    auto body = BodyObject(c.req);
    if (!body) {
        return Fail(body.error());
    }
    ObjectReader top(*body, "");
    const json::object* md_obj = top.Object("metadata");
    const json::object* spec_obj = top.Object("spec");
    top.Any("status");  // a whole object read back from GET may carry it; it is ignored
    if (auto r = top.Finish(); !r) {
        return Fail(r.error());
    }
    std::optional<store::Labels> labels;
    std::optional<int64_t> body_revision;
    if (md_obj != nullptr) {
        ObjectReader md(*md_obj, "metadata");
        auto name = md.String("name");
        auto mid = md.String("id");
        auto mkind = md.String("kind");
        auto mtenant = md.String("tenant");
        body_revision = md.Int("revision");
        md.Int("generation");
        md.String("created_at");
        md.String("updated_at");
        md.String("deletion_requested_at");
        if (md_obj->contains("labels")) {
            auto l = ReadLabels(md);
            if (!l) {
                return Fail(l.error());
            }
            labels = std::move(*l);
        }
        if (auto r = md.Finish(); !r) {
            return Fail(r.error());
        }
        if (name && *name != current->name) {
            return Fail(core::FieldError("metadata.name", "is immutable"));
        }
        if (mid && *mid != id) {
            return Fail(core::FieldError("metadata.id", "does not match the URL"));
        }
        if (mkind && *mkind != kind.name) {
            return Fail(core::FieldError("metadata.kind", fmt::format("must be {}", kind.name)));
        }
        if (mtenant && *mtenant != current->tenant) {
            return Fail(core::FieldError("metadata.tenant", "is immutable"));
        }
    }
    std::optional<json::object> spec;
    if (spec_obj != nullptr) {
        auto s = kind.validate(*spec_obj);
        if (!s) {
            return Fail(s.error());
        }
        if (auto g = GuardPlatformFields(kind, c.who, *s, &current->spec); !g) {
            return Fail(g.error());
        }
        spec = std::move(*s);
    }
    std::optional<int64_t> expected = if_match ? if_match : body_revision;
    registry::AdmissionHold admission;
    if (spec && kind.admit) {
        store::Object candidate = *current;
        candidate.spec = *spec;
        auto held = kind.admit(candidate);
        if (!held) {
            return Fail(held.error());
        }
        admission = std::move(*held);
        spec = candidate.spec;
    }
    auto updated = deps.store.Update(
        id,
        expected,
        c.now,
        [&](store::Object& o) -> Result<void> {
            if (o.kind != kind.name ||
                (kind.scope != registry::Scope::kPlatform && !c.who.Sees(o.tenant))) {
                return Fail(NotFound(kind.name, id));
            }
            if (spec && !o.deletion_requested_at.empty()) {
                return Fail(
                    ErrorCode::kConflict, fmt::format("{} {} is being deleted", kind.name, id)
                );
            }
            if (labels) {
                o.labels = *labels;
            }
            if (spec) {
                o.spec = *spec;
            }
            return {};
        },
        c.audit
    );
    c.audited = true;
    if (!updated) {
        return Fail(updated.error());
    }
    return ObjectResponse(200, *updated);
}

Result<http::Response> Delete(Deps& deps, const registry::Kind& kind, Call& c) {
    std::string id(c.req.Param("id"));
    auto target = PrepareWrite(deps, kind, c, id, "delete", kind.admin_creates);
    if (!target) {
        return Fail(target.error());
    }
    std::optional<int64_t> if_match = target->if_match;
    if (kind.before_delete) {
        if (auto ok = kind.before_delete(target->current); !ok) {
            return Fail(ok.error());
        }
    }
    if (kind.finalized) {
        // Ask the controller to tear it down; it removes the object when it is gone.
        auto marked = deps.store.Update(
            id,
            if_match,
            c.now,
            [&](store::Object& o) -> Result<void> {
                if (o.kind != kind.name || !c.who.Sees(o.tenant)) {
                    return Fail(NotFound(kind.name, id));
                }
                const json::value* p = o.spec.if_contains("deletion_protection");
                if (p != nullptr && p->is_bool() && p->as_bool()) {
                    return Fail(
                        ErrorCode::kConflict,
                        fmt::format(
                            "{} {} has deletion protection on; turn spec.deletion_protection off "
                            "first",
                            kind.name,
                            id
                        )
                    );
                }
                if (o.deletion_requested_at.empty()) {
                    o.deletion_requested_at = c.now;
                }
                return {};
            },
            c.audit
        );
        c.audited = true;
        if (!marked) {
            return Fail(marked.error());
        }
        return ObjectResponse(202, *marked);
    }
    auto deleted = deps.store.Delete(
        id,
        if_match,
        [&](const store::Object& o) -> Result<void> {
            if (o.kind != kind.name || !c.who.Sees(o.tenant)) {
                return Fail(NotFound(kind.name, id));
            }
            return {};
        },
        c.audit
    );
    c.audited = true;
    if (!deleted) {
        return Fail(deleted.error());
    }
    if (kind.after_delete) {
        kind.after_delete(*deleted, c.audit);
    }
    return ObjectResponse(200, *deleted);
}

}  // namespace

Result<store::Object> GetVisible(
    Deps& deps,
    const registry::Kind& kind,
    const auth::Principal& who,
    std::string_view id
) {
    if (auto r = CheckId(kind, id); !r) {
        return Fail(r.error());
    }
    auto o = deps.store.Get(id);
    if (!o) {
        if (o.error().code == ErrorCode::kNotFound) {
            return Fail(NotFound(kind.name, id));
        }
        return Fail(o.error());
    }
    if (o->kind != kind.name ||
        (kind.scope != registry::Scope::kPlatform && !who.Sees(o->tenant))) {
        return Fail(NotFound(kind.name, id));  // the same answer as for an id that does not exist
    }
    return o;
}

void AddInstanceLogRoute(
    http::Router& router,
    Deps& deps,
    const registry::Registry& kinds,
    fleet::Provisioner& provisioner
) {
    const registry::Kind* kind = kinds.ByName("Instance");
    if (kind == nullptr) {
        return;
    }
    router.Add(
        "GET",
        "/v1/instances/{id}/logs",
        Wrap(
            deps,
            "",
            [&deps, &provisioner, kind](Call& c) -> Result<http::Response> {
                if (auto r = KnownQuery(c.req, {"stream", "tail", "offset"}); !r) {
                    return Fail(r.error());
                }
                std::string id(c.req.Param("id"));
                auto inst = GetVisible(deps, *kind, c.who, id);
                if (!inst) {
                    return Fail(inst.error());
                }
                std::string stream = c.req.Query("stream").value_or("stdout");
                if (stream != "stdout" && stream != "stderr") {
                    return Fail(core::FieldError("stream", "must be stdout or stderr"));
                }
                auto tail = QueryInt(c.req, "tail", 1, 100000);
                auto offset = QueryInt(c.req, "offset", 0, INT64_MAX);
                if (!tail) {
                    return Fail(tail.error());
                }
                if (!offset) {
                    return Fail(offset.error());
                }
                fleet::LogChunk log = fleet::ReadInstanceLog(
                    provisioner.LogPath(id, stream), *offset, tail->value_or(100)
                );
                http::Response r{
                    200,
                    "text/plain; charset=utf-8",
                    {{"x-log-offset", std::to_string(log.size)}},
                    std::move(log.text),
                    {}};
                return r;
            }
        )
    );
}

void AddResourceRoutes(
    http::Router& router,
    Deps& deps,
    const registry::Registry& kinds,
    WatchHub& hub
) {
    for (const registry::Kind* k : kinds.All()) {
        const registry::Kind& kind = *k;
        std::string base = "/v1/" + kind.plural;
        std::string lower = kind.name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (!kind.system_managed) {
            router.Add("POST", base, Wrap(deps, lower + ".create", [&deps, &kind](Call& c) {
                           return Create(deps, kind, c);
                       }));
        }
        router.Add("GET", base, Wrap(deps, "", [&deps, &kind, &hub](Call& c) {
                       return List(deps, kind, c, hub);
                   }));
        router.Add(
            "GET",
            base + "/{id}",
            Wrap(
                deps,
                "",
                [&deps, &kind](Call& c) -> Result<http::Response> {
                    if (auto r = KnownQuery(c.req, {}); !r) {
                        return Fail(r.error());
                    }
                    auto o = GetVisible(deps, kind, c.who, c.req.Param("id"));
                    if (!o) {
                        return Fail(o.error());
                    }
                    return ObjectResponse(200, *o);
                }
            ),
            [&deps, &kind](http::Request& req) -> std::optional<http::Response> {
                // The hot read: a cached token and a cached document, answered on the I/O thread.
                // Anything else (errors included) takes the full path above.
                if (!req.query.empty()) {
                    return std::nullopt;
                }
                auto who = deps.tokens.AuthenticateCached(req.Header("authorization"));
                if (!who || !CheckRate(deps, *who)) {
                    return std::nullopt;  // the full path gives the 401/429 (and charges no second
                                          // token)
                }
                auto doc = deps.store.Cached(req.Param("id"));
                if (!doc || doc->kind != kind.name ||
                    (kind.scope != registry::Scope::kPlatform && !who->Sees(doc->tenant))) {
                    return std::nullopt;
                }
                http::Response r = RawJsonResponse(200, doc->doc);
                r.headers.emplace_back("etag", fmt::format("\"{}\"", doc->revision));
                return r;
            }
        );
        for (const registry::Action& a : kind.actions) {
            const std::string& action = a.name;
            const auto& change = a.apply;
            router.Add(
                "POST",
                base + "/{id}:" + action,
                Wrap(
                    deps,
                    lower + "." + action,
                    [&deps, &kind, &change = change, name = action](Call& c
                    ) -> Result<http::Response> {
                        std::string id(c.req.Param("id"));
                        auto target = PrepareWrite(deps, kind, c, id, "change", false);
                        if (!target) {
                            return Fail(target.error());
                        }
                        // An action takes no parameters: no body, or an empty JSON object. Anything
                        // else is refused rather than silently ignored.
                        if (!c.req.body.empty()) {
                            auto body = BodyObject(c.req);
                            if (!body) {
                                return Fail(body.error());
                            }
                            if (!body->empty()) {
                                return Fail(core::FieldError(
                                    std::string(body->begin()->key()),
                                    fmt::format("is not a parameter of :{} (it takes none)", name)
                                ));
                            }
                        }
                        auto updated = deps.store.Update(
                            id,
                            target->if_match,
                            c.now,
                            [&](store::Object& o) -> Result<void> {
                                if (!o.deletion_requested_at.empty()) {
                                    return Fail(
                                        ErrorCode::kConflict,
                                        fmt::format("{} {} is being deleted", kind.name, id)
                                    );
                                }
                                change(o.spec);
                                return {};
                            },
                            c.audit
                        );
                        c.audited = true;
                        if (!updated) {
                            return Fail(updated.error());
                        }
                        return ObjectResponse(200, *updated);
                    }
                )
            );
        }
        if (kind.system_managed) {
            continue;
        }
        router.Add("PUT", base + "/{id}", Wrap(deps, lower + ".update", [&deps, &kind](Call& c) {
                       return Update(deps, kind, c);
                   }));
        router.Add("DELETE", base + "/{id}", Wrap(deps, lower + ".delete", [&deps, &kind](Call& c) {
                       return Delete(deps, kind, c);
                   }));
    }
}

}  // namespace hangar::api
