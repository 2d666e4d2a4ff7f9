@stand:saltext
Feature: SAL text transformed to Avro
  SAL once wrote plain-text, SQL-insert-like messages to Kafka, one topic
  per CSC and kind; kafkaefd's saltransform turned each into an Avro
  record on a topic of its own. The transform here does the same with
  the topics' standard schemas: what was written as text reaches the EFD
  field by field, and a line that is not SAL text is skipped and counted,
  never fatal.

  Scenario: Text messages reach the EFD as written
    When ATDome publishes "position" as SAL text to "summit" at 20 Hz for 1 s
    And MTM1M3 publishes "forceActuatorData" as SAL text to "summit" at 20 Hz for 1 s
    And Test:1 publishes "logevent_scalars" as SAL text to "summit" at 10 Hz for 1 s
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 30 s
    And every field of ATDome "position" in database "efd" at "usdf" is as written
    And every field of MTM1M3 "forceActuatorData" in database "efd" at "usdf" is as written
    And every field of Test:1 "logevent_scalars" in database "efd" at "usdf" is as written
    And topic "summit.lsst.sal.ATDome_position" exists at "usdf"

  Scenario: A line that is not SAL text is skipped, and the next one goes through
    When the line "ATDome ATDome_position:( 'rev', oops )" is written to topic "ATDome_telemetry" at "summit"
    And the line "hello" is written to topic "ATDome_event" at "summit"
    And ATDome publishes "position" as SAL text to "summit" at 10 Hz for 1 s
    Then the SAL transform "summit-saltransform" has skipped 2 malformed messages within 10 s
    And every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 30 s
