@stand:conformance-influxdb2
Feature: On InfluxDB 2, Telegraf and the sink write the same points
  With the EFD on InfluxDB 2.x, the efdsink binary (token and organization)
  and real Telegraf (its influxdb_v2 output, routed to a bucket per input)
  read the same replicated topics: every point in their two buckets is the
  same, measurement, time and every field.

  Scenario: The same points in two buckets, field by field
    When these topics are published on domain 0:
      | CSC    | topic             | rate | duration |
      | ATDome | position          | 10   | 2        |
      | MTM1M3 | forceActuatorData | 20   | 1        |
      | Test:1 | scalars           | 5    | 2        |
      | Test:1 | arrays            | 5    | 2        |
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 60 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd_telegraf" at "usdf" exactly once within 60 s
    And every field of Test:1 "arrays" in database "efd" at "usdf" is as written
    And the sink "telegraf" logged no errors
    And databases "efd" and "efd_telegraf" at "usdf" hold the same points within 60 s
