@stand:sasquatch-telegraf
Feature: Sasquatch's own telegraf.conf and the sink write the same points
  The consumers Phalanx renders for the summit and usdfprod run twice: as
  real Telegraf with their rendered telegraf.conf, and as the project's
  sink configured from the same consumer. Both write the same points,
  measurement, time (rounded to the microsecond, as precision = "1us"
  says) and every field.

  Scenario: The same points from the rendered telegraf.conf and from the sink
    When these topics are published on domain 0:
      | CSC    | topic             | rate | duration |
      | MTM1M3 | forceActuatorData | 20   | 1        |
      | MTM1M3 | logevent_accelerometerSettings | 5 | 1 |
      | Test:1 | scalars           | 5    | 2        |
      | Test:1 | arrays            | 5    | 2        |
    Then every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 60 s
    And every sample of Test:1 "arrays" is in database "efd_telegraf" at "usdf" exactly once within 60 s
    And every field of Test:1 "arrays" in database "efd_telegraf" at "usdf" is as written
    And databases "efd" and "efd_telegraf" at "usdf" hold the same points within 60 s
    And databases "efd" and "efd_telegraf" at "summit" hold the same points within 60 s
