#include "hangar/core/audit_chain.hpp"

#include "hangar/core/ids.hpp"

namespace hangar::core {

namespace {
void Field(std::string& out, std::string_view v) {
    out += std::to_string(v.size());
    out += ':';
    out += v;
    out += ';';
}
}  // namespace

std::string AuditChainHash(std::string_view prev_hash, const AuditFields& e) {
    std::string buf;
    buf.reserve(256);
    Field(buf, prev_hash);
    Field(buf, std::to_string(e.seq));
    for (const std::string* f :
         {&e.time,
          &e.actor,
          &e.tenant,
          &e.action,
          &e.object,
          &e.request_id,
          &e.source,
          &e.outcome}) {
        Field(buf, *f);
    }
    return Sha256Hex(buf);
}

}  // namespace hangar::core
