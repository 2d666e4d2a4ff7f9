@stand:secured
Feature: Every site's InfluxDB takes only clients with credentials
  On the secured stand each site's InfluxDB (the EFD) has authentication
  on, as Sasquatch deploys it: the sink writes with the EFD's user, and
  the harness reads with it; a client without credentials is refused
  both its queries and its writes.

  Background:
    Given the stand is up

  Scenario: The EFD refuses a client without credentials, and the sink writes with its own
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
    And every field of ATDome "position" in database "efd" at "usdf" is as written
    And database "efd" at "usdf" holds no unexpected points
    And the InfluxDB at "usdf" refuses a client without credentials
