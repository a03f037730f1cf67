#pragma once
// The unit of cross-core traffic: a heap object that travels source -> target through the
// request ring, runs there, and travels back through the response ring to complete on the source.

#include "engine/runtime/service_group.h"

namespace shoal::rt {

class smp_message {
 public:
  smp_message(unsigned source, unsigned target, service_group group)
      : source_(source), target_(target), group_(group) {}
  virtual ~smp_message() = default;

  /// On the target core. Must eventually hand the message back with runtime::send_response.
  virtual void execute() = 0;
  /// On the source core, once: delivers the outcome and deletes the message.
  virtual void complete() = 0;

  unsigned source() const { return source_; }
  unsigned target() const { return target_; }
  service_group group() const { return group_; }

 private:
  unsigned source_;
  unsigned target_;
  service_group group_;
};

}  // namespace shoal::rt
