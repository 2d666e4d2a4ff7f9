@stand:chain
Feature: A chain of sites with separator "_"
  Replication summit → base → USDF with separator "_" renames the summit's
  topics twice; the USDF's remote registry serves the summit's schemas from
  the storage topic the flows bring (base_summit_registry-schemas), found
  from the flows, so the stand says only which site's schemas it serves.

  Scenario: The summit's topics reach the USDF's EFD through the base
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    And Test:1 publishes "arrays" at 10 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in topic "summit_lsst.sal.ATDome.position" at "base" exactly once within 20 s
    And every sample of ATDome "position" is in topic "base_summit_lsst.sal.ATDome.position" at "usdf" exactly once within 20 s
    And topic "base_summit_registry-schemas" exists at "usdf"
    And every field of ATDome "position" in database "efd" at "usdf" is as written
    And every field of Test:1 "arrays" in database "efd" at "usdf" is as written
    And every schema id in topic "base_summit_lsst.sal.Test.arrays" at "usdf" resolves at its registry to the schema it has at "summit"
    And database "efd" at "usdf" holds no unexpected points
