#include "hangar/cli/output.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

namespace hangar::cli {

namespace json = boost::json;

std::string At(const json::value& v, const std::string& path) {
    const json::value* cur = &v;
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string key =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!cur->is_object()) {
            return "";
        }
        cur = cur->as_object().if_contains(key);
        if (cur == nullptr) {
            return "";
        }
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    if (cur->is_string()) {
        return std::string(cur->as_string());
    }
    if (cur->is_null()) {
        return "-";
    }
    if (cur->is_double()) {
        return fmt::format("{}", cur->as_double());  // 99.798, not JSON's 9.9798E1
    }
    if (cur->is_object() && cur->as_object().empty()) {
        return "";
    }
    if (cur->is_object()) {
        std::string out;
        for (const auto& kv : cur->as_object()) {
            out += (out.empty() ? "" : ",") + std::string(kv.key()) + "=" +
                   (kv.value().is_string() ? std::string(kv.value().as_string())
                                           : json::serialize(kv.value()));
        }
        return out;
    }
    return json::serialize(*cur);
}

std::string RenderTable(const json::array& rows, const std::vector<Column>& cols) {
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(cols.size());
    for (size_t i = 0; i < cols.size(); ++i) {
        width[i] = cols[i].header.size();
    }
    for (const auto& row : rows) {
        std::vector<std::string> line;
        for (size_t i = 0; i < cols.size(); ++i) {
            line.push_back(At(row, cols[i].path));
            width[i] = std::max(width[i], line.back().size());
        }
        cells.push_back(std::move(line));
    }
    std::string out;
    auto emit = [&](const std::vector<std::string>& line) {
        std::string l;
        for (size_t i = 0; i < line.size(); ++i) {
            l += line[i];
            if (i + 1 < line.size()) {
                l += std::string(width[i] - line[i].size() + 3, ' ');
            }
        }
        out += l + "\n";
    };
    std::vector<std::string> headers;
    for (const auto& c : cols) {
        headers.push_back(c.header);
    }
    emit(headers);
    for (const auto& line : cells) {
        emit(line);
    }
    return out;
}

namespace {

YAML::Node ToYaml(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return YAML::Node(YAML::NodeType::Null);
        case json::kind::bool_:
            return YAML::Node(v.as_bool());
        case json::kind::int64:
            return YAML::Node(v.as_int64());
        case json::kind::uint64:
            return YAML::Node(v.as_uint64());
        case json::kind::double_:
            return YAML::Node(v.as_double());
        case json::kind::string:
            return YAML::Node(std::string(v.as_string()));
        case json::kind::array: {
            YAML::Node n(YAML::NodeType::Sequence);
            for (const auto& e : v.as_array()) {
                n.push_back(ToYaml(e));
            }
            return n;
        }
        case json::kind::object: {
            YAML::Node n(YAML::NodeType::Map);
            for (const auto& kv : v.as_object()) {
                n[std::string(kv.key())] = ToYaml(kv.value());
            }
            return n;
        }
    }
    return {};
}

}  // namespace

std::string RenderYaml(const json::value& v) {
    YAML::Emitter e;
    e << ToYaml(v);
    return std::string(e.c_str()) + "\n";
}

std::string RenderJson(const json::value& v) {
    // Indented for people piping into less; still one valid JSON document.
    std::ostringstream out;
    std::function<void(const json::value&, int)> emit = [&](const json::value& x, int depth) {
        std::string pad(static_cast<size_t>(depth) * 2, ' ');
        std::string pad2(static_cast<size_t>(depth + 1) * 2, ' ');
        if (x.is_object() && !x.as_object().empty()) {
            out << "{\n";
            size_t i = 0;
            for (const auto& kv : x.as_object()) {
                out << pad2 << json::serialize(json::string(kv.key())) << ": ";
                emit(kv.value(), depth + 1);
                out << (++i < x.as_object().size() ? ",\n" : "\n");
            }
            out << pad << "}";
        } else if (x.is_array() && !x.as_array().empty()) {
            out << "[\n";
            size_t i = 0;
            for (const auto& e : x.as_array()) {
                out << pad2;
                emit(e, depth + 1);
                out << (++i < x.as_array().size() ? ",\n" : "\n");
            }
            out << pad << "]";
        } else {
            out << json::serialize(x);
        }
    };
    emit(v, 0);
    out << "\n";
    return out.str();
}

}  // namespace hangar::cli
