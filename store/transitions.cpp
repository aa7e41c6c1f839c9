#include "store/transitions.hpp"

namespace duijie::store {

void RecordTransition(Connection& conn, const TransitionRecord& t) {
  auto& s = conn.Prepare(
      "INSERT INTO transitions (entity, entity_id, from_state, to_state, actor_person_id, channel, reason, at) "
      "VALUES (:entity, :id, :from, :to, :actor, :channel, :reason, :at)");
  s.bind(":entity", t.entity);
  s.bind(":id", t.entity_id);
  if (t.from) {
    s.bind(":from", *t.from);
  } else {
    s.bind(":from");
  }
  s.bind(":to", t.to);
  if (t.actor) {
    s.bind(":actor", *t.actor);
  } else {
    s.bind(":actor");
  }
  s.bind(":channel", t.channel);
  if (t.reason.empty()) {
    s.bind(":reason");
  } else {
    s.bind(":reason", t.reason);
  }
  s.bind(":at", t.at);
  s.exec();
}

}  // namespace duijie::store
