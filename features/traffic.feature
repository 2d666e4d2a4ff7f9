Feature: Traffic at summit scale reaches the EFD
  Many topics written at once, from a table or from the nominal summit
  profile, each reach the USDF EFD exactly once.

  Background:
    Given the stand is up

  Scenario: A table of topics written at once
    When these topics are published on domain 0:
      | CSC         | topic             | rate | duration |
      | ATDome      | position          | 20   | 1        |
      | MTHexapod:1 | application       | 20   | 1        |
      | MTM1M3      | forceActuatorData | 50   | 1        |
      | Test:1      | scalars           | 10   | 1        |
    Then every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 20 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 20 s

  Scenario: The nominal summit profile's telemetry reaches the EFD
    When profile "nominal-summit" is replayed for 2 s on domain 0
    Then every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 30 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 30 s
    And end-to-end latency p99 of MTM1M3 "forceActuatorData" is below 2 s

  Scenario: A recorded summit second replayed twice as fast reaches the EFD as recorded
    When recording "recordings/summit-nominal-1s.jsonl" is replayed at 2x on domain 0
    Then every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 30 s
    And every field of MTM1M3 "forceActuatorData" in database "efd" at "usdf" is as written
    And every field of MTHexapod:1 "actuators" in database "efd" at "usdf" is as written
