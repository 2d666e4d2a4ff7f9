@stand:sites
Feature: Every site is its own world
  Each site's InfluxDB is its own storage: a database named at one site is
  never the same storage as the database of that name at another site. A
  point the summit's sink wrote can therefore never satisfy a check of the
  USDF's EFD: with the USDF's sink down, the USDF's EFD has nothing.

  Scenario: With only the summit's sink running, the USDF's EFD stays empty
    Given the sink "usdf-efd" is stopped
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    Then every field of ATDome "position" in database "efd" at "summit" is as written
    And every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" exactly once within 20 s
    And ATDome "position" is reported as "not delivered" in database "efd" at "usdf" after 2 s
    When the sink "usdf-efd" is restarted
    Then every field of ATDome "position" in database "efd" at "usdf" is as written
