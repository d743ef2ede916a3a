#pragma once
// IANA time zones by name, loaded safely (cctz).

#include <string>

#include <cctz/time_zone.h>

namespace hangar::core {

// cctz opens whatever file a name spells (an absolute path, a FIFO, ../../), and keeps every
// name it was asked for: a name comes from a tenant, so only IANA-shaped names of a regular
// file in the system's zoneinfo are loaded. False when the name is not such a zone.
bool LoadTimeZone(const std::string& name, cctz::time_zone* zone);

}  // namespace hangar::core
