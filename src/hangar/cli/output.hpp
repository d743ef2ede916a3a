#pragma once
// Output for people (aligned tables) and for programs (-o json, -o yaml).

#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace hangar::cli {

struct Column {
    std::string header;
    std::string path;  // dotted path into each row: "metadata.name"
};

std::string RenderTable(const boost::json::array& rows, const std::vector<Column>& cols);
std::string RenderYaml(const boost::json::value& v);
std::string RenderJson(const boost::json::value& v);
// The value at a dotted path, as text ("" when absent, "-" for null).
std::string At(const boost::json::value& v, const std::string& path);

}  // namespace hangar::cli
