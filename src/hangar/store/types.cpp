#include "hangar/store/types.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::store {

Object NewSystemObject(
    std::string kind,
    std::string_view prefix,
    std::string tenant,
    const std::string& now
) {
    Object o;
    o.id = core::NewId(prefix);
    o.kind = std::move(kind);
    o.tenant = std::move(tenant);
    o.name = o.id;
    std::replace(o.name.begin(), o.name.end(), '_', '-');
    o.created_at = o.updated_at = now;
    return o;
}

json::object ObjectToJson(const Object& o) {
    json::object labels;
    for (const auto& [k, v] : o.labels) {
        labels[k] = v;
    }
    json::object md;
    md["id"] = o.id;
    md["kind"] = o.kind;
    md["tenant"] = o.tenant;
    md["name"] = o.name;
    md["labels"] = std::move(labels);
    md["revision"] = o.revision;
    md["generation"] = o.generation;
    md["created_at"] = o.created_at;
    md["updated_at"] = o.updated_at;
    if (!o.deletion_requested_at.empty()) {
        md["deletion_requested_at"] = o.deletion_requested_at;
    }
    json::object out;
    out["metadata"] = std::move(md);
    out["spec"] = o.spec;
    out["status"] = o.status;
    return out;
}

std::string ObjectToDoc(const Object& o) {
    return json::serialize(ObjectToJson(o));
}

namespace {

// Before non-finite numbers were refused, one could be stored, serialized as a bare Infinity,
// -Infinity or NaN that no JSON reader takes. Such a token outside a string reads as null, so
// the object can still be listed, fixed or deleted.
std::string NullNonFinite(std::string_view doc) {
    std::string out;
    out.reserve(doc.size());
    bool in_string = false;
    for (size_t i = 0; i < doc.size(); ++i) {
        char c = doc[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < doc.size()) {
                out += doc[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            out += c;
            continue;
        }
        bool replaced = false;
        for (std::string_view token : {"-Infinity", "Infinity", "NaN"}) {
            if (doc.substr(i, token.size()) == token) {
                out += "null";
                i += token.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string RepairDoc(std::string doc) {
    if (doc.find("Infinity") == std::string::npos && doc.find("NaN") == std::string::npos) {
        return doc;  // the common case: one fast scan
    }
    if (core::ParseJson(doc, core::LenientLimits())) {
        return doc;  // the words are inside strings
    }
    return NullNonFinite(doc);
}

Result<Object> ObjectFromDoc(std::string_view doc) {
    // Hangar wrote it: no request limits, no duplicate-key bookkeeping.
    auto parsed = core::ParseJsonObject(doc, core::LenientLimits());
    if (!parsed) {
        parsed = core::ParseJsonObject(NullNonFinite(doc), core::LenientLimits());
    }
    if (!parsed) {
        return core::Fail(core::ErrorCode::kInternal, "stored object is not valid JSON");
    }
    const json::object& root = *parsed;
    Object o;
    const json::value* md = root.if_contains("metadata");
    if (md == nullptr || !md->is_object()) {
        return core::Fail(core::ErrorCode::kInternal, "stored object has no metadata");
    }
    const json::object& m = md->as_object();
    auto str = [&](std::string_view k) -> std::string {
        const json::value* v = m.if_contains(k);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto num = [&](std::string_view k) -> int64_t {
        const json::value* v = m.if_contains(k);
        return v != nullptr && v->is_int64() ? v->as_int64() : 0;
    };
    o.id = str("id");
    o.kind = str("kind");
    o.tenant = str("tenant");
    o.name = str("name");
    o.revision = num("revision");
    o.generation = num("generation");
    o.created_at = str("created_at");
    o.updated_at = str("updated_at");
    o.deletion_requested_at = str("deletion_requested_at");
    if (const json::value* l = m.if_contains("labels"); l != nullptr && l->is_object()) {
        for (const auto& kv : l->as_object()) {
            if (kv.value().is_string()) {
                o.labels.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
            }
        }
    }
    if (const json::value* s = root.if_contains("spec"); s != nullptr && s->is_object()) {
        o.spec = s->as_object();
    }
    if (const json::value* s = root.if_contains("status"); s != nullptr && s->is_object()) {
        o.status = s->as_object();
    }
    return o;
}

std::string_view ChangeTypeName(ChangeType t) {
    switch (t) {
        case ChangeType::kAdded:
            return "ADDED";
        case ChangeType::kModified:
            return "MODIFIED";
        case ChangeType::kDeleted:
            return "DELETED";
    }
    return "MODIFIED";
}

ChangeType ChangeTypeFromName(std::string_view name) {
    if (name == "ADDED") {
        return ChangeType::kAdded;
    }
    return name == "DELETED" ? ChangeType::kDeleted : ChangeType::kModified;
}

}  // namespace hangar::store
