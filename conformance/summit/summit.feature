Feature: The whole summit in real time
  Every telemetry topic and every event of every CSC of ts_xml, at the
  summit's nominal rates and every index the summit runs, goes through the
  producer, summit Kafka, replication, USDF Kafka and the sink into the
  USDF's EFD, each sample exactly once, and the sink keeps up.

  Background:
    Given the stand is up

  Scenario: The summit's nominal traffic reaches the USDF exactly once
    When profile "summit" is replayed for 60 s on domain 0
    Then every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 120 s
    And every sample published in this scenario is in database "efd" at "usdf" exactly once within 120 s
    And the lag of the sink "usdf-efd" drains within 120 s
