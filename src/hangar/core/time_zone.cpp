#include "hangar/core/time_zone.hpp"

#include <cctype>

#include <sys/stat.h>

namespace hangar::core {

bool LoadTimeZone(const std::string& name, cctz::time_zone* zone) {
    if (name.empty() || name.size() > 64 || name.front() == '/' ||
        name.find("..") != std::string::npos || name.find("//") != std::string::npos) {
        return false;
    }
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
            c != '+') {
            return false;
        }
    }
    if (name != "UTC") {
        struct stat st {};
        std::string path = "/usr/share/zoneinfo/" + name;
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            return false;
        }
    }
    return cctz::load_time_zone(name, zone);
}

}  // namespace hangar::core
