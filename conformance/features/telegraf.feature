@stand:conformance
Feature: Telegraf and the sink write the same points
  Real Telegraf (kafka_consumer, avro parser, influxdb output, configured
  as Sasquatch configures it) and the project's sink read the same
  replicated topics through the same registry: every point they write is
  the same, measurement, time and every field, and Telegraf reads the
  producer's records without an error.

  Scenario: The same points, field by field
    When these topics are published on domain 0:
      | CSC    | topic             | rate | duration |
      | ATDome | position          | 10   | 2        |
      | MTM1M3 | forceActuatorData | 20   | 1        |
      | Test:1 | scalars           | 5    | 2        |
      | Test:1 | arrays            | 5    | 2        |
    Then every sample of ATDome "position" is in database "efd_telegraf" at "usdf" exactly once within 60 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd_telegraf" at "usdf" exactly once within 60 s
    And every sample of Test:1 "arrays" is in database "efd" at "usdf" exactly once within 60 s
    And the sink "telegraf" logged no errors
    And databases "efd" and "efd_telegraf" at "usdf" hold the same points within 60 s
