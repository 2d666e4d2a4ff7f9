Feature: A debugging consumer in the application's group steals messages
  Kafka shares a group's partitions out among its members, so an engineer
  who reads the EFD's topics with a console consumer in the sink's own
  group takes a share of the records away from the sink, and commits them:
  the sink never writes those samples. The harness's taps, and a
  debugging consumer with no group, read by direct assignment and take
  nothing from anyone.

  Scenario: A consumer in the sink's group takes samples from the EFD
    Given a debugging consumer joins the group of the sink "usdf-efd"
    When these topics are published on domain 0:
      | CSC         | topic             | rate | duration |
      | ATDome      | position          | 20   | 1        |
      | MTHexapod:1 | actuators         | 20   | 1        |
      | MTM1M3      | forceActuatorData | 20   | 1        |
      | Test:1      | scalars           | 20   | 1        |
      | Test:1      | arrays            | 20   | 1        |
    Then the debugging consumer took the samples the sink did not write to "efd" at "usdf" within 10 s

  Scenario: A consumer with no group takes nothing
    Given a debugging consumer with no group reads the topics of the sink "usdf-efd"
    When these topics are published on domain 0:
      | CSC         | topic             | rate | duration |
      | ATDome      | position          | 20   | 1        |
      | MTM1M3      | forceActuatorData | 20   | 1        |
      | Test:1      | scalars           | 20   | 1        |
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 30 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 30 s
    And every sample of Test:1 "scalars" is in database "efd" at "usdf" exactly once within 30 s
    And the debugging consumer read every sample published in this scenario within 10 s
