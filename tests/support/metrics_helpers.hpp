#pragma once
// Small helpers for the metrics tests: URL-encoding query parameters (core's, as the CLI uses).

#include "hangar/core/strings.hpp"

namespace hangar::testing {

using core::UrlEncode;

}  // namespace hangar::testing
