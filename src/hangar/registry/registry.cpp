#include "hangar/registry/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace hangar::registry {

namespace json = boost::json;

std::string_view ScopeName(Scope s) {
    switch (s) {
        case Scope::kTenant:
            return "tenant";
        case Scope::kSelf:
            return "self";
        case Scope::kPlatform:
            return "platform";
    }
    return "tenant";
}

const std::vector<Column>& DefaultColumns() {
    static const std::vector<Column> kColumns = {
        {"ID", "metadata.id"},
        {"NAME", "metadata.name"},
        {"TENANT", "metadata.tenant"},
        {"REVISION", "metadata.revision"},
        {"LABELS", "metadata.labels"},
        {"CREATED", "metadata.created_at"}};
    return kColumns;
}

namespace {

bool Lower(std::string_view s, size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

}  // namespace

const Kind& Registry::Add(Kind kind) {
    auto bad = [&](std::string_view why) {
        throw std::logic_error(fmt::format("kind \"{}\": {}", kind.name, why));
    };
    if (kind.name.empty() || kind.name.front() < 'A' || kind.name.front() > 'Z') {
        bad("the name must be a capitalised word");
    }
    if (!Lower(kind.plural, 40) || !Lower(kind.prefix, 3) || kind.prefix.size() != 3) {
        bad("the plural must be lowercase letters and the prefix three of them");
    }
    if (kind.module.empty()) {
        bad("say which module owns it");
    }
    if (!kind.validate && !kind.system_managed) {
        bad("a kind clients write needs a validator");
    }
    if (kind.system_managed && (!kind.actions.empty() || kind.apply_order != 0)) {
        bad("a system-managed kind has no actions and is not applied from files");
    }
    for (const auto& k : kinds_) {
        if (k->name == kind.name || k->plural == kind.plural || k->prefix == kind.prefix) {
            bad(fmt::format("its name, plural or prefix is taken by {}", k->name));
        }
        if (kind.apply_order != 0 && k->apply_order == kind.apply_order) {
            bad(fmt::format("apply order {} is taken by {}", kind.apply_order, k->name));
        }
    }
    kinds_.push_back(std::make_unique<Kind>(std::move(kind)));
    return *kinds_.back();
}

const Kind* Registry::ByPlural(std::string_view plural) const {
    for (const auto& k : kinds_) {
        if (k->plural == plural) {
            return k.get();
        }
    }
    return nullptr;
}

const Kind* Registry::ByName(std::string_view name) const {
    for (const auto& k : kinds_) {
        if (k->name == name) {
            return k.get();
        }
    }
    return nullptr;
}

std::vector<const Kind*> Registry::All() const {
    std::vector<const Kind*> out;
    out.reserve(kinds_.size());
    for (const auto& k : kinds_) {
        out.push_back(k.get());
    }
    return out;
}

json::array Registry::Describe() const {
    json::array out;
    for (const auto& k : kinds_) {
        json::object o;
        o["kind"] = k->name;
        o["plural"] = k->plural;
        o["prefix"] = k->prefix;
        o["module"] = k->module;
        o["summary"] = k->summary;
        o["scope"] = ScopeName(k->scope);
        auth::Role create =
            k->admin_creates || k->system_managed ? auth::Role::kAdmin : k->write_role;
        o["create_role"] = auth::RoleName(create);
        o["update_role"] = auth::RoleName(k->system_managed ? auth::Role::kAdmin : k->write_role);
        o["delete_role"] = auth::RoleName(create);
        o["system_managed"] = k->system_managed;
        o["finalized"] = k->finalized;
        o["apply_order"] = k->apply_order;
        json::array actions;
        for (const auto& a : k->actions) {
            actions.emplace_back(a.name);
        }
        o["actions"] = std::move(actions);
        json::array platform;
        for (const auto& f : k->platform_fields) {
            platform.emplace_back(f);
        }
        o["platform_fields"] = std::move(platform);
        json::array cols;
        for (const auto& c : k->columns.empty() ? DefaultColumns() : k->columns) {
            cols.push_back(json::object{{"header", c.header}, {"path", c.path}});
        }
        o["columns"] = std::move(cols);
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace hangar::registry
