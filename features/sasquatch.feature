@stand:sasquatch
Feature: Sasquatch as deployed, run
  The stand's sites, registries, MirrorMaker 2's mirror and every Telegraf
  consumer come from Phalanx's chart with the summit's and usdfprod's
  values. What stand coverage says of that deployment is what the running
  stand does: a topic reaches the databases coverage names, field by
  field, and no other.

  Scenario: Every CSC's telemetry and events go where coverage says
    Given the stand is up
    Then a telemetry topic and an event of every CSC reach exactly the databases coverage says, field by field, within 60 s
