Feature: The SAL Kafka producer forwards every CSC it serves
  The salkafka binary, run as deployed, forwards an indexed CSC for its
  index only, the largest hot telemetry topic at its nominal rate, and a
  CSC under test that a second producer serves on DDS domain 12.

  Background:
    Given the stand is up

  Scenario: The largest hot topic at 50 Hz arrives exactly once
    When MTM1M3 publishes "forceActuatorData" at 50 Hz for 3 s on domain 0
    Then every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 20 s
    And topic "summit.lsst.sal.MTM1M3.forceActuatorData" exists at "usdf"
    And end-to-end latency p99 of MTM1M3 "forceActuatorData" is below 2 s

  Scenario: An indexed CSC is forwarded for the index the producer serves
    When MTHexapod:1 publishes "application" at 20 Hz for 2 s on domain 0
    Then every sample of MTHexapod:1 "application" is in database "efd" at "usdf" exactly once within 20 s
    And producer "summit-salkafka" has read every sample of MTHexapod:1 "application"
    When MTHexapod:2 publishes "application" at 20 Hz for 1 s on domain 0
    Then MTHexapod:2 "application" is reported as "not delivered" in database "efd" at "usdf" after 2 s

  Scenario: A CSC under test on domain 12 is served by its own producer only
    When Test:1 publishes "scalars" at 10 Hz for 2 s on domain 12
    Then every sample of Test:1 "scalars" is in database "efd" at "usdf" exactly once within 20 s
    And producer "test-salkafka" has read every sample of Test:1 "scalars"
    And producer "summit-salkafka" has read no sample of Test:1 "scalars"

  Scenario: The first record to a new topic is not lost
    The producer creates every topic before its first record; a broker
    that auto-created it on that record could lose it.
    When Test:1 publishes 1 sample of "arrays" on domain 0
    Then every sample of Test:1 "arrays" is in database "efd" at "usdf" exactly once within 20 s
