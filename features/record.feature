@stand:record
Feature: Capture and replay
  Summit traffic recorded from the summit's Kafka, with the schemas its
  registry holds, replays into another stand as it was recorded. The
  recording carries its schemas, so the lab needs none of the summit's
  registry; the replay writes every recorded sample with fresh stamps and
  each writer's seqNums renumbered, keeping the spacing at twice the
  speed, and each sample reaches the lab's Kafka and EFD exactly once,
  every field as recorded.

  Scenario: Ten seconds of the nominal summit, recorded from summit Kafka, replay into the lab as recorded
    Given the stand is up
    When profile "nominal-summit" is replayed for 10 s on domain 0
    And the topics matching "lsst\.sal\..*" at "summit" are recorded into "summit-10s"
    Then recording "summit-10s" holds every sample written in this scenario, field by field
    When recording "summit-10s" is replayed at 2x on domain 7
    Then every sample replayed from "summit-10s" is in database "efd" at "lab" exactly once within 60 s, every field as written
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "lab" exactly once within 30 s
    And every field of MTHexapod:1 "actuators" in database "efd" at "lab" is as written
