// Fleet files (`hangar plan` / `hangar apply`). The conversion of a YAML document to the JSON
// Hangar sends, FromYaml, and the document checks around it (Planner::Load) are file-local in
// src/hangar/cli/apply.cpp and read files by name, so this fuzzes what is reachable: yaml-cpp's
// YAML::LoadAll on the text, as Planner::Load's LoadAllFromFile does, then a walk of each
// document reading what FromYaml reads (Type, Tag, Scalar, map keys as<std::string>).
//
// The walk is bounded (depth 256, 100,000 nodes): anchors and aliases make node graphs that
// share, and can even contain, themselves, and FromYaml has no such bound (see README.md).
// yaml-cpp reports errors by exception; those are caught, nothing else is.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "fuzz_support.hpp"

namespace {

constexpr int kMaxDepth = 256;
constexpr size_t kMaxNodes = 100'000;

void Walk(const YAML::Node& root) {
    std::vector<std::pair<YAML::Node, int>> todo{{root, 0}};
    size_t visited = 0;
    while (!todo.empty() && visited < kMaxNodes) {
        auto [n, depth] = std::move(todo.back());
        todo.pop_back();
        ++visited;
        switch (n.Type()) {
            case YAML::NodeType::Map:
                for (const auto& kv : n) {
                    try {
                        (void)kv.first.as<std::string>();  // FromYaml's key conversion
                    } catch (const YAML::Exception&) {
                    }
                    if (depth < kMaxDepth) {
                        todo.emplace_back(kv.second, depth + 1);
                    }
                }
                break;
            case YAML::NodeType::Sequence:
                for (const auto& e : n) {
                    if (depth < kMaxDepth) {
                        todo.emplace_back(e, depth + 1);
                    }
                }
                break;
            case YAML::NodeType::Scalar:
                (void)n.Tag();
                (void)n.Scalar();
                break;
            default:
                break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    try {
        std::vector<YAML::Node> docs = YAML::LoadAll(std::string(hangar::fuzz::AsText(data, size)));
        for (const auto& d : docs) {
            if (!d || d.IsNull()) {
                continue;
            }
            Walk(d);
        }
    } catch (const YAML::Exception&) {
        // Malformed YAML: Planner::Load reports it as "<file>: <what>".
    }
    return 0;
}
