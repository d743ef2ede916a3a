#pragma once
// The fields of a statistics document the fleet needs, read in one streaming pass over the text
// (no document tree: a 30 KB document is thousands of values, and only a dozen matter). Read
// leniently: a field of another type is skipped, since documents change shape between versions.
//
//   uniqueId, version, installedAt, host (strings, first 256 bytes) → unique_id, version,
//   installed_at, host totalUsers, activeUsers, totalMessages, push, pushQueue (numbers) →
//   total_users, ... (integers) deploy.method, deploy.platform (strings, first 64 bytes) →
//   deploy_method, deploy_platform
//
// A key given twice counts the last time.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::edge {

// The indexed fields; fails (with the parser's message) unless `text` is one JSON object.
core::Result<boost::json::object> IndexStatistics(std::string_view text);

}  // namespace hangar::edge
