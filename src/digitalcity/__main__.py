from digitalcity.cli import main

main()
