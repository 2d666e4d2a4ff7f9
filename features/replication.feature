Feature: Replication from the summit to the USDF, as MirrorMaker 2 does it
  The flow copies the summit's SAL topics and its registry's storage topic
  to the USDF, renamed with the summit's alias, emits MirrorMaker 2's
  heartbeats, and delivers at least once: a replicator killed mid-stream
  and restarted loses nothing, and the duplicates it causes are counted.

  Background:
    Given the stand is up

  Scenario: Every SAL topic of the traffic is renamed with the summit's alias
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    And MTHexapod:1 publishes "actuators" at 10 Hz for 1 s on domain 0
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 1 s on domain 0
    And MTM1M3 publishes "logevent_detailedState" at 2 Hz for 1 s on domain 0
    And Test:1 publishes "scalars" at 10 Hz for 1 s on domain 0
    Then every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 20 s
    And topic "summit.registry-schemas" exists at "usdf"
    And topic "registry-schemas" does not exist at "usdf"

  Scenario: Heartbeats show the link is alive, as MirrorMaker 2's do
    Then heartbeats from "summit" to "usdf" arrive in topic "heartbeats" at "usdf" within 5 s
    And heartbeats from "usdf" to "summit" arrive in topic "summit.heartbeats" at "usdf" within 5 s
    And topic "usdf.heartbeats" does not exist at "summit"

  # MirrorMaker 2 commits its source offsets every offset.flush.interval.ms,
  # so a SIGKILLed MM2 copies again what it had not committed: the EFD gets
  # duplicates (seen: 50 of 200). The project's replicator commits each
  # copy once the target acknowledged it.
  @own-replicator
  Scenario: A replicator killed mid-stream and restarted loses nothing
    When Test:1 publishes "scalars" at 50 Hz for 4 s on domain 0 in the background
    And 1 s pass
    And the replication flow "summit->usdf" is killed
    And 1 s pass
    And the replication flow "summit->usdf" is restarted
    Then every sample of Test:1 "scalars" is in topic "summit.lsst.sal.Test.scalars" at "usdf" at least once within 20 s
    And every sample of Test:1 "scalars" is in database "efd" at "usdf" exactly once within 20 s

  # kfake's fault hook refuses the commits; real Kafka has none.
  @embedded
  Scenario: Copies the replicator could not commit are made again, counted as duplicates
    Given offset commits fail at "summit"
    When Test:1 publishes "scalars" at 20 Hz for 1 s on domain 0
    Then every sample of Test:1 "scalars" is in topic "summit.lsst.sal.Test.scalars" at "usdf" exactly once within 20 s
    When the replication flow "summit->usdf" is killed
    And offset commits succeed at "summit"
    And the replication flow "summit->usdf" is restarted
    Then every sample of Test:1 "scalars" is in topic "summit.lsst.sal.Test.scalars" at "usdf" with none lost and 20 duplicates within 20 s
    And Test:1 "scalars" is reported as "delivered with duplicates" in database "efd" at "usdf" after 2 s
