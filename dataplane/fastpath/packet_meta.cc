#include "dataplane/fastpath/packet_meta.h"

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

namespace faultline {

int g_packet_meta_offset = -1;

bool RegisterPacketMeta(std::string* error) {
  static const rte_mbuf_dynfield kField = {
      .name = "faultline_packet_meta",
      .size = sizeof(PacketMeta),
      .align = alignof(PacketMeta),
      .flags = 0,
  };
  const int offset = rte_mbuf_dynfield_register(&kField);
  if (offset < 0) {
    *error = std::string("cannot register the mbuf dynamic field: ") + rte_strerror(rte_errno);
    return false;
  }
  g_packet_meta_offset = offset;
  return true;
}

}  // namespace faultline
