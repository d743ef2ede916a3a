// `hangar plan -f fleet.yaml` and `hangar apply -f fleet.yaml`: a fleet kept in files under
// review, like infrastructure as code. Multi-document YAML of any kind; objects are matched by
// kind, tenant and name; `--prune -l <selector>` deletes objects with those labels that left
// the files. Plan prints what apply would do, as a readable diff of specs.

#include "hangar/cli/apply.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <ranges>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "hangar/cli/client.hpp"
#include "hangar/cli/output.hpp"
#include "hangar/core/ids.hpp"

namespace hangar::cli {

namespace json = boost::json;

namespace {

struct KindOrder {
    std::string kind, plural;
    bool tenant_scoped;
};

// The kinds fleet files may declare, in the order `apply` creates them (what others refer to
// first; deletes run in reverse): the server's kinds with an apply order (GET /v1/kinds).
core::Result<std::vector<KindOrder>> ApplyOrder(Client& c) {
    auto r = c.Call("GET", "/v1/kinds");
    if (!r) {
        return core::Fail(r.error());
    }
    std::vector<std::pair<int64_t, KindOrder>> ordered;
    const json::value* items = r->is_object() ? r->as_object().if_contains("items") : nullptr;
    if (items != nullptr && items->is_array()) {
        for (const auto& v : items->as_array()) {
            const json::object& k = v.as_object();
            int64_t order = k.at("apply_order").to_number<int64_t>();
            if (order > 0) {
                ordered.emplace_back(
                    order,
                    KindOrder{
                        std::string(k.at("kind").as_string()),
                        std::string(k.at("plural").as_string()),
                        k.at("scope") == "tenant"}
                );
            }
        }
    }
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
    });
    std::vector<KindOrder> out;
    for (auto& [order, k] : ordered) {
        out.push_back(std::move(k));
    }
    return out;
}

// A spec as the server shows it, for comparing and printing: a PushApp's key or service-account
// file becomes the SHA-256 the server keeps beside the sealed copy, so an unchanged key is no
// change and the secret is never printed.
json::object Comparable(const std::string& kind, json::object spec) {
    if (kind != "PushApp") {
        return spec;
    }
    if (auto* a = spec.if_contains("apns"); a != nullptr && a->is_object()) {
        json::object& apns = a->as_object();
        if (auto* pem = apns.if_contains("key_p8"); pem != nullptr && pem->is_string()) {
            apns["key_sha256"] = core::Sha256Hex(pem->as_string());
            apns.erase("key_p8");
        }
    }
    if (auto* f = spec.if_contains("fcm"); f != nullptr && f->is_object()) {
        json::object& fcm = f->as_object();
        if (auto* sa = fcm.if_contains("service_account"); sa != nullptr) {
            fcm["service_account_sha256"] = core::Sha256Hex(
                sa->is_string() ? std::string(sa->as_string()) : json::serialize(*sa)
            );
            fcm.erase("service_account");
        }
    }
    return spec;
}

// True when `server` holds everything `file` sets: objects key by key (keys the file leaves
// out are the server's defaults), arrays element by element, anything else equal.
bool Covers(const json::value& file, const json::value& server) {
    if (file.is_object() && server.is_object()) {
        for (const auto& kv : file.as_object()) {
            const json::value* s = server.as_object().if_contains(kv.key());
            if (s == nullptr || !Covers(kv.value(), *s)) {
                return false;
            }
        }
        return true;
    }
    if (file.is_array() && server.is_array()) {
        const auto& a = file.as_array();
        const auto& b = server.as_array();
        if (a.size() != b.size()) {
            return false;
        }
        for (size_t i = 0; i < a.size(); ++i) {
            if (!Covers(a[i], b[i])) {
                return false;
            }
        }
        return true;
    }
    if (file.is_number() && server.is_number()) {
        return file.to_number<double>() == server.to_number<double>();
    }
    return file == server;
}

// Plain scalars become numbers and booleans where they read as such; quoted ones stay strings
// (quote versions: "1.0"). Bounded: an alias may point at its own ancestor (a: &a [1, *a]) or
// be repeated into a billion nodes, so depth and the nodes visited are counted.
class YamlToJson {
public:
    core::Result<json::value> Convert(const YAML::Node& n, size_t depth = 0) {
        if (depth > kMaxDepth) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format(
                    "nests deeper than {} levels (or an alias refers to its own ancestor)",
                    kMaxDepth
                )
            );
        }
        if (++nodes_ > kMaxNodes) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format("holds more than {} values once its aliases are expanded", kMaxNodes)
            );
        }
        switch (n.Type()) {
            case YAML::NodeType::Map: {
                json::object o;
                for (const auto& kv : n) {
                    if (!kv.first.IsScalar()) {
                        return core::Fail(
                            core::ErrorCode::kInvalidArgument,
                            "a mapping key must be a plain string"
                        );
                    }
                    auto v = Convert(kv.second, depth + 1);
                    if (!v) {
                        return v;
                    }
                    o[kv.first.Scalar()] = std::move(*v);
                }
                return o;
            }
            case YAML::NodeType::Sequence: {
                json::array a;
                for (const auto& e : n) {
                    auto v = Convert(e, depth + 1);
                    if (!v) {
                        return v;
                    }
                    a.push_back(std::move(*v));
                }
                return a;
            }
            case YAML::NodeType::Scalar:
                return Scalar(n);
            default:
                return nullptr;
        }
    }

private:
    static json::value Scalar(const YAML::Node& n) {
        const std::string& s = n.Scalar();
        if (n.Tag() == "!" || s.empty()) {
            return json::string(s);
        }
        if (s == "true" || s == "false") {
            return s == "true";
        }
        if (s == "null" || s == "~") {
            return nullptr;
        }
        int64_t i = 0;
        auto [ip, iec] = std::from_chars(s.data(), s.data() + s.size(), i);
        if (iec == std::errc() && ip == s.data() + s.size()) {
            return i;
        }
        double d = 0;
        auto [dp, dec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (dec == std::errc() && dp == s.data() + s.size() && std::isfinite(d)) {
            return d;
        }
        return json::string(s);
    }
    static constexpr size_t kMaxDepth = 64;
    static constexpr size_t kMaxNodes = 1'000'000;
    size_t nodes_ = 0;
};

struct Doc {
    const KindOrder* kind;
    std::string name, tenant_name;
    json::object labels, spec;
    std::string where;  // file:document for messages
};

struct Existing {
    std::string id, tenant;
    int64_t revision = 0;
    json::object labels, spec;
};

std::string Show(const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

class Planner {
public:
    Planner(Client& c, bool prune, std::string selector)
        : c_(c), prune_(prune), selector_(std::move(selector)) {
        // One key per object per run: a retried request within this apply is safe, and an
        // object deleted since an earlier apply is created again instead of the server
        // replaying that earlier apply's answer.
        std::random_device rd;
        run_ = fmt::format("{:08x}{:08x}", rd(), rd());
    }

    core::Result<void> Load(const std::vector<std::string>& files) {
        auto order = ApplyOrder(c_);
        if (!order) {
            return core::Fail(order.error());
        }
        kinds_ = std::move(*order);
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                return core::Fail(
                    core::ErrorCode::kInvalidArgument, fmt::format("{}: cannot be read", file)
                );
            }
            std::string text(
                (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()
            );
            auto docs = ParseFleetDocuments(text);
            if (!docs) {
                return core::Fail(
                    core::ErrorCode::kInvalidArgument,
                    fmt::format("{}: {}", file, docs.error().message)
                );
            }
            for (size_t i = 0; i < docs->size(); ++i) {
                const json::value& v = (*docs)[i];
                if (v.is_null()) {
                    continue;
                }
                std::string where = fmt::format("{} (document {})", file, i + 1);
                if (!v.is_object()) {
                    return core::Fail(
                        core::ErrorCode::kInvalidArgument, where + ": a document must be a mapping"
                    );
                }
                const json::object& o = v.as_object();
                Doc d;
                d.where = where;
                for (const auto& kv : o) {
                    if (kv.key() != "kind" && kv.key() != "metadata" && kv.key() != "spec") {
                        return core::Fail(
                            core::ErrorCode::kInvalidArgument,
                            fmt::format(
                                "{}: unknown field \"{}\"", where, std::string_view(kv.key())
                            )
                        );
                    }
                }
                std::string kind = o.contains("kind") && o.at("kind").is_string()
                                       ? std::string(o.at("kind").as_string())
                                       : "";
                d.kind = FindKind(kind);
                if (d.kind == nullptr) {
                    std::vector<std::string> names;
                    for (const auto& k : kinds_) {
                        names.push_back(k.kind);
                    }
                    return core::Fail(
                        core::ErrorCode::kInvalidArgument,
                        fmt::format(
                            "{}: kind \"{}\" is not one of {}", where, kind, fmt::join(names, ", ")
                        )
                    );
                }
                const json::value* md = o.if_contains("metadata");
                if (md == nullptr || !md->is_object() || !md->as_object().contains("name") ||
                    !md->at("name").is_string()) {
                    return core::Fail(
                        core::ErrorCode::kInvalidArgument, where + ": metadata.name is required"
                    );
                }
                d.name = std::string(md->at("name").as_string());
                if (const auto* t = md->as_object().if_contains("tenant");
                    t != nullptr && t->is_string()) {
                    d.tenant_name = std::string(t->as_string());
                }
                if (d.kind->tenant_scoped && d.tenant_name.empty()) {
                    return core::Fail(
                        core::ErrorCode::kInvalidArgument,
                        where + ": metadata.tenant (the tenant's name) is required for " + kind
                    );
                }
                if (const auto* l = md->as_object().if_contains("labels");
                    l != nullptr && l->is_object()) {
                    d.labels = l->as_object();
                }
                if (const auto* s = o.if_contains("spec"); s != nullptr && s->is_object()) {
                    d.spec = s->as_object();
                }
                docs_.push_back(std::move(d));
            }
        }
        return {};
    }

    // What exists now, per kind: tenants by name, and the rest by (tenant name, name).
    core::Result<void> Fetch() {
        for (const auto& k : kinds_) {
            std::string cursor;
            do {
                auto page = c_.Call(
                    "GET",
                    "/v1/" + k.plural + "?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor)
                );
                if (!page) {
                    return core::Fail(page.error());
                }
                for (const auto& item : page->at("items").as_array()) {
                    Existing e;
                    e.id = At(item, "metadata.id");
                    e.tenant = At(item, "metadata.tenant");
                    e.revision = item.at("metadata").at("revision").as_int64();
                    e.labels = item.at("metadata").at("labels").as_object();
                    e.spec = item.at("spec").as_object();
                    std::string name = At(item, "metadata.name");
                    if (k.kind == "Tenant") {
                        tenant_ids_[name] = e.id;
                        tenant_names_[e.id] = name;
                    }
                    existing_[k.kind][Key(k, e.tenant, name)] = e;
                }
                const json::value& next = page->at("next_cursor");
                cursor = next.is_string() ? UrlEncode(std::string(next.as_string())) : "";
            } while (!cursor.empty());
        }
        return {};
    }

    // Prints the plan; with `apply`, carries it out. Returns the number of changes.
    core::Result<int> Run(bool apply) {
        int changes = 0;
        std::set<std::string> wanted;  // kind/tenant/name in the files
        for (const auto& k : kinds_) {
            for (const auto& d : docs_) {
                if (d.kind != &k) {
                    continue;
                }
                std::string tenant_id;
                if (k.tenant_scoped) {
                    auto it = tenant_ids_.find(d.tenant_name);
                    tenant_id = it != tenant_ids_.end() ? it->second : "";
                    if (tenant_id.empty() && !apply) {
                        tenant_id = "(new " + d.tenant_name + ")";
                    } else if (tenant_id.empty()) {
                        return core::Fail(
                            core::ErrorCode::kInvalidArgument,
                            fmt::format("{}: there is no tenant \"{}\"", d.where, d.tenant_name)
                        );
                    }
                }
                std::string key = Key(k, tenant_id, d.name);
                wanted.insert(k.kind + "/" + key);
                auto& have = existing_[k.kind];
                auto it = have.find(key);
                std::string label = fmt::format(
                    "{} {}{}", k.kind, k.tenant_scoped ? d.tenant_name + "/" : "", d.name
                );
                if (it == have.end()) {
                    ++changes;
                    fmt::print("+ create {}\n", label);
                    for (const auto& kv : Comparable(k.kind, d.spec)) {
                        fmt::print(
                            "    + spec.{}: {}\n", std::string_view(kv.key()), Show(kv.value())
                        );
                    }
                    if (apply) {
                        json::object md{{"name", d.name}, {"labels", d.labels}};
                        if (k.tenant_scoped) {
                            md["tenant"] = tenant_id;
                        }
                        auto r = c_.Call(
                            "POST",
                            "/v1/" + k.plural,
                            json::serialize(json::object{{"metadata", md}, {"spec", d.spec}}),
                            {"Idempotency-Key: apply-" + run_ + "-" + k.kind + "-" + tenant_id +
                             "-" + d.name}
                        );
                        if (!r) {
                            return core::Fail(core::MakeError(
                                r.error().code, fmt::format("{}: {}", d.where, r.error().message)
                            ));
                        }
                        if (k.kind == "Tenant") {
                            tenant_ids_[d.name] = At(*r, "metadata.id");
                        }
                    }
                    continue;
                }
                // Changed: a field the file sets that differs (at any depth: what the server
                // filled in as a default is not a change), or other labels.
                std::vector<std::string> diff;
                for (const auto& kv : Comparable(k.kind, d.spec)) {
                    const json::value* now = it->second.spec.if_contains(kv.key());
                    if (now == nullptr || !Covers(kv.value(), *now)) {
                        diff.push_back(fmt::format(
                            "    ~ spec.{}: {} -> {}",
                            std::string_view(kv.key()),
                            now == nullptr ? "(unset)" : Show(*now),
                            Show(kv.value())
                        ));
                    }
                }
                if (it->second.labels != d.labels) {
                    diff.push_back(fmt::format(
                        "    ~ labels: {} -> {}",
                        json::serialize(it->second.labels),
                        json::serialize(d.labels)
                    ));
                }
                if (diff.empty()) {
                    continue;
                }
                ++changes;
                fmt::print("~ update {}\n", label);
                for (const auto& line : diff) {
                    fmt::print("{}\n", line);
                }
                if (apply) {
                    json::object spec = it->second.spec;
                    for (const auto& kv : d.spec) {
                        spec[kv.key()] = kv.value();
                    }
                    auto r = c_.Call(
                        "PUT",
                        "/v1/" + k.plural + "/" + it->second.id,
                        json::serialize(json::object{
                            {"metadata", {{"labels", d.labels}}}, {"spec", spec}}),
                        {"If-Match: " + std::to_string(it->second.revision)}
                    );
                    if (!r) {
                        return core::Fail(core::MakeError(
                            r.error().code, fmt::format("{}: {}", d.where, r.error().message)
                        ));
                    }
                }
            }
        }
        if (prune_) {
            for (const KindOrder& reversed : std::ranges::reverse_view(kinds_)) {
                const KindOrder* k = &reversed;
                auto page = c_.Call(
                    "GET", "/v1/" + k->plural + "?limit=1000&selector=" + UrlEncode(selector_)
                );
                if (!page) {
                    return core::Fail(page.error());
                }
                for (const auto& item : page->at("items").as_array()) {
                    std::string tenant = At(item, "metadata.tenant");
                    std::string key = Key(*k, tenant, At(item, "metadata.name"));
                    if (wanted.contains(k->kind + "/" + key) ||
                        !At(item, "metadata.deletion_requested_at").empty()) {
                        continue;
                    }
                    ++changes;
                    fmt::print(
                        "- delete {} {}{}\n",
                        k->kind,
                        k->tenant_scoped ? tenant_names_[tenant] + "/" : "",
                        At(item, "metadata.name")
                    );
                    if (apply) {
                        auto r =
                            c_.Call("DELETE", "/v1/" + k->plural + "/" + At(item, "metadata.id"));
                        if (!r) {
                            return core::Fail(r.error());
                        }
                    }
                }
            }
        }
        return changes;
    }

private:
    const KindOrder* FindKind(const std::string& k) const {
        for (const auto& o : kinds_) {
            if (o.kind == k) {
                return &o;
            }
        }
        return nullptr;
    }

    // The server's kinds in apply order (Load reads them).
    std::vector<KindOrder> kinds_;

    static std::string Key(const KindOrder& k, const std::string& tenant, const std::string& name) {
        return k.tenant_scoped ? tenant + "/" + name : name;
    }

    std::string run_;  // this apply's idempotency-key prefix
    Client& c_;
    bool prune_;
    std::string selector_;
    std::vector<Doc> docs_;
    std::map<std::string, std::map<std::string, Existing>> existing_;
    std::map<std::string, std::string> tenant_ids_, tenant_names_;
};

}  // namespace

core::Result<std::vector<json::value>> ParseFleetDocuments(std::string_view text) {
    std::vector<YAML::Node> nodes;
    try {
        nodes = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        return core::Fail(core::ErrorCode::kInvalidArgument, e.what());
    }
    std::vector<json::value> out;
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (!nodes[i] || nodes[i].IsNull()) {
            out.emplace_back(nullptr);
            continue;
        }
        YamlToJson convert;
        auto v = convert.Convert(nodes[i]);
        if (!v) {
            return core::Fail(
                core::ErrorCode::kInvalidArgument,
                fmt::format("document {}: {}", i + 1, v.error().message)
            );
        }
        out.push_back(std::move(*v));
    }
    return out;
}

int PlanOrApply(
    Client& client,
    const std::vector<std::string>& files,
    bool apply,
    bool prune,
    const std::string& selector
) {
    Planner p(client, prune, selector);
    auto fail = [](const core::Error& e) {
        fmt::print(stderr, "hangar: {}\n", e.message);
        return core::ExitCode(e.code);
    };
    if (auto r = p.Load(files); !r) {
        return fail(r.error());
    }
    if (auto r = p.Fetch(); !r) {
        return fail(r.error());
    }
    auto changes = p.Run(apply);
    if (!changes) {
        return fail(changes.error());
    }
    if (*changes == 0) {
        fmt::print("No changes: the fleet matches the files.\n");
    } else {
        fmt::print(
            "\n{} change{} {}.\n",
            *changes,
            *changes == 1 ? "" : "s",
            apply ? "applied" : "planned; run `hangar apply` to make them"
        );
    }
    return 0;
}

}  // namespace hangar::cli
